"""NER with our e5 head: sentences → token windows → BIO tags → whole-word character spans.

The head was trained on sentences, so texts are read sentence by sentence (a sentence longer
than a window is cut into windows); batches are grouped by length to keep padding low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerFast

from pipeline.nlp.e5.model import HeadConfig, load_tokenizer
from pipeline.nlp.e5.onnx import load_classifier
from pipeline.nlp.spans import decode_bio, merge_spans
from pipeline.nlp.text import sentences, snap_to_words
from pipeline.nlp.types import EntitySpan, ModelInfo

WINDOW_TOKENS = 128  # content tokens per window, as in training


@dataclass(frozen=True, slots=True)
class Window:
    """Token ids of one model input and each content token's character span in its text."""

    text_index: int
    input_ids: list[int]  # with <s> … </s>
    offsets: list[tuple[int, int]]  # per content token, into the original text


def core_offsets(text: str, offsets: Sequence[tuple[int, int]], base: int) -> list[tuple[int, int]]:
    """Shift token offsets by `base` and drop the leading space a `▁word` token covers."""
    result = []
    for start, end in offsets:
        while start < end and text[base + start].isspace():
            start += 1
        result.append((base + start, base + end))
    return result


def windows(
    tokenizer: PreTrainedTokenizerFast, texts: Sequence[str], max_tokens: int = WINDOW_TOKENS
) -> list[Window]:
    """Every sentence of every text as one or more windows of at most max_tokens tokens."""
    pieces = [(i, s, e) for i, text in enumerate(texts) for s, e in sentences(text)]
    if not pieces:
        return []
    encoded = tokenizer(
        [texts[i][s:e] for i, s, e in pieces],
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
    )
    result = []
    for (i, start, _), ids, offsets in zip(
        pieces, encoded["input_ids"], encoded["offset_mapping"], strict=True
    ):
        offsets = core_offsets(texts[i], offsets, start)
        for w in range(0, len(ids), max_tokens):
            chunk = [tokenizer.cls_token_id, *ids[w : w + max_tokens], tokenizer.sep_token_id]
            result.append(Window(i, chunk, offsets[w : w + max_tokens]))
    return result


def pad_batch(batch: Sequence[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists to one tensor, with its attention mask."""
    width = max(len(ids) for ids in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        ids[row, : len(item)] = torch.tensor(item)
        mask[row, : len(item)] = 1
    return ids, mask


class E5EntityRecognizer:
    """The EntityRecognizer backed by a trained e5 token head (see `pipeline train ner`)."""

    def __init__(
        self,
        head_dir: Path,
        base_dir: Path | None = None,
        batch_size: int = 32,
        backend: str = "torch",
    ) -> None:
        """backend: "torch", or an ONNX Runtime export, "onnx-int8" or "onnx-fp32"."""
        config = HeadConfig.read(head_dir)
        self.tags = config.labels
        self.info = ModelInfo("ner", f"e5-small+{head_dir.name}", config.version)
        self.model = load_classifier(head_dir, base_dir, backend)
        self.tokenizer = load_tokenizer(base_dir)
        self.batch_size = batch_size

    def predict(self, texts: Sequence[str]) -> list[list[EntitySpan]]:
        found: list[list[EntitySpan]] = [[] for _ in texts]
        items = windows(self.tokenizer, texts)
        order = sorted(range(len(items)), key=lambda k: len(items[k].input_ids))
        for b in range(0, len(order), self.batch_size):
            batch = [items[k] for k in order[b : b + self.batch_size]]
            probs = self._forward([w.input_ids for w in batch])
            for window, window_probs in zip(batch, probs, strict=True):
                found[window.text_index] += self._spans(
                    texts[window.text_index], window, window_probs
                )
        return [merge_spans(spans) for spans in found]

    @torch.inference_mode()
    def _forward(self, batch: list[list[int]]) -> torch.Tensor:
        ids, mask = pad_batch(batch, self.tokenizer.pad_token_id)
        return self.model(ids, mask).softmax(-1)

    def _spans(self, text: str, window: Window, probs: torch.Tensor) -> list[EntitySpan]:
        content = probs[1 : 1 + len(window.offsets)]  # skip <s>; padding lies beyond
        scores, best = content.max(-1)
        tags = [self.tags[int(i)] for i in best]
        spans = []
        for span in decode_bio(tags, scores.tolist(), window.offsets):
            start, end = snap_to_words(text, span.start, span.end)
            if start < end:
                spans.append(EntitySpan(start, end, span.label, span.score))
        return spans
