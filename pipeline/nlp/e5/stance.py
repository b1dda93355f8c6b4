"""Stance with our e5 head: (target, sentences) → favor / against / neutral."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerFast

from pipeline.nlp.e5.model import HeadConfig, load_tokenizer
from pipeline.nlp.e5.ner import pad_batch
from pipeline.nlp.e5.onnx import load_classifier
from pipeline.nlp.types import ModelInfo, StanceScore

MAX_TOKENS = 256  # target + evidence sentences; longer evidence is cut at the end


def encode_pairs(
    tokenizer: PreTrainedTokenizerFast, pairs: Sequence[tuple[str, str]]
) -> list[list[int]]:
    """`<s> target </s></s> text </s>` ids, the text truncated to fit MAX_TOKENS."""
    if not pairs:
        return []
    encoded = tokenizer(
        [target for target, _ in pairs],
        [text for _, text in pairs],
        truncation="only_second",
        max_length=MAX_TOKENS,
        return_attention_mask=False,
    )
    return encoded["input_ids"]


class E5Stance:
    """The StanceClassifier backed by a trained e5 sequence head (see `pipeline train stance`)."""

    def __init__(
        self,
        head_dir: Path,
        base_dir: Path | None = None,
        batch_size: int = 32,
        backend: str = "torch",
    ) -> None:
        """backend: "torch", or an ONNX Runtime export, "onnx-int8" or "onnx-fp32"."""
        config = HeadConfig.read(head_dir)
        self.labels = config.labels
        self.info = ModelInfo("stance", f"e5-small+{head_dir.name}", config.version)
        self.model = load_classifier(head_dir, base_dir, backend)
        self.tokenizer = load_tokenizer(base_dir)
        self.batch_size = batch_size

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[StanceScore]:
        inputs = encode_pairs(self.tokenizer, pairs)
        order = sorted(range(len(inputs)), key=lambda k: len(inputs[k]))
        results: list[StanceScore | None] = [None] * len(inputs)
        for b in range(0, len(order), self.batch_size):
            rows = order[b : b + self.batch_size]
            probs = self._forward([inputs[k] for k in rows])
            scores, best = probs.max(-1)
            for k, score, label in zip(rows, scores.tolist(), best.tolist(), strict=True):
                results[k] = StanceScore(self.labels[label], round(score, 4))
        return results  # type: ignore[return-value]

    @torch.inference_mode()
    def _forward(self, batch: list[list[int]]) -> torch.Tensor:
        ids, mask = pad_batch(batch, self.tokenizer.pad_token_id)
        return self.model(ids, mask).softmax(-1)
