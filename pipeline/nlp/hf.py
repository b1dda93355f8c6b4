"""Hugging Face backends: any token-classification model for NER, any NLI model for stance.

Models load by hub id or local path. Both follow the pipeline shape: preprocess → forward →
postprocess, with the batch size as a knob.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch  # the `train` extra; the worker names it when missing
from transformers import (
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
    pipeline,
)

from pipeline.nlp.spans import merge_spans, normalize_label
from pipeline.nlp.text import snap_to_words
from pipeline.nlp.types import EntitySpan, ModelInfo, StanceInput

STANCE_HYPOTHESES = {
    "favor": "This text is in favor of {}.",
    "against": "This text is against {}.",
    "neutral": "This text is neutral about {}.",
}


def set_threads(threads: int) -> None:
    """torch's intra-op threads (0: torch's default, one per core)."""
    if threads > 0:
        torch.set_num_threads(threads)


def model_info(task: str, model_id: str, config: object) -> ModelInfo:
    """Name and version: the hub commit, or a digest of a local folder's weights."""
    version = getattr(config, "_commit_hash", None)
    path = Path(model_id)
    if not version and path.is_dir():
        digest = hashlib.sha256()
        for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            digest.update(weights.read_bytes())
        version = "sha256:" + digest.hexdigest()[:16]
    return ModelInfo(task, path.name if path.is_dir() else model_id, version or "unknown")


class HFEntityRecognizer:
    """Token classification with sub-words merged into words and long texts strided."""

    def __init__(self, model_id: str, batch_size: int = 8) -> None:
        tokenizer = AutoTokenizer.from_pretrained(model_id)
        model = AutoModelForTokenClassification.from_pretrained(model_id)
        # Windows as long as the model allows, overlapping by a quarter so every word is seen
        # with context on both sides.
        window = min(tokenizer.model_max_length, model.config.max_position_embeddings)
        tokenizer.model_max_length = window
        self.info = model_info("ner", model_id, model.config)
        self.batch_size = batch_size
        self._pipe = pipeline(
            "token-classification",
            model=model,
            tokenizer=tokenizer,
            aggregation_strategy="first",
            stride=window // 4,
            device=-1,
        )

    def predict(self, texts: Sequence[str]) -> list[list[EntitySpan]]:
        if not texts:
            return []
        outputs = self._pipe(list(texts), batch_size=self.batch_size)
        return [self._postprocess(text, found) for text, found in zip(texts, outputs, strict=True)]

    @staticmethod
    def _postprocess(text: str, found: list[dict]) -> list[EntitySpan]:
        spans = []
        for item in found:
            label = normalize_label(item["entity_group"])
            start, end = snap_to_words(text, int(item["start"]), int(item["end"]))
            if label is not None and start < end:
                spans.append(EntitySpan(start, end, label, round(float(item["score"]), 4)))
        return merge_spans(spans)


class HFNliStance:
    """Zero-shot stance with an NLI model: which of three hypotheses does the premise entail?"""

    def __init__(self, model_id: str, batch_size: int = 16, max_length: int = 512) -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(model_id)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_id).eval()
        self.info = model_info("stance", model_id, self.model.config)
        self.batch_size = batch_size
        self.max_length = min(max_length, self.tokenizer.model_max_length)
        entail = [
            i
            for label, i in self.model.config.label2id.items()
            if label.lower().startswith("entail")
        ]
        if not entail:
            labels = self.model.config.label2id
            raise ValueError(f"{model_id} is not an NLI model: no 'entailment' label in {labels}")
        self.entailment = entail[0]
        self.labels = list(STANCE_HYPOTHESES)

    def distributions(self, inputs: Sequence[StanceInput]) -> np.ndarray:
        """The hypotheses name the target, so an NLI model needs no marks in the premise."""
        premises = [i.text for i in inputs for _ in self.labels]
        hypotheses = [
            STANCE_HYPOTHESES[label].format(i.target) for i in inputs for label in self.labels
        ]
        logits = []
        for i in range(0, len(premises), self.batch_size * len(self.labels)):
            end = i + self.batch_size * len(self.labels)
            logits.append(self._forward(premises[i:end], hypotheses[i:end]))
        if not logits:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return torch.cat(logits).view(-1, len(self.labels)).softmax(-1).numpy()

    @torch.inference_mode()
    def _forward(self, premises: list[str], hypotheses: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            premises,
            hypotheses,
            truncation="only_first",
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        return self.model(**batch).logits[:, self.entailment]
