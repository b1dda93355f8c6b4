"""NER with our e5 head: sentences → token windows → BIO tags → whole-word character spans.

The head was trained on sentences, so texts are read sentence by sentence (a sentence longer
than a window is cut into windows); batches are grouped by length to keep padding low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.nlp.e5.runner import HeadRunner
from pipeline.nlp.e5.tokens import E5Tokenizer
from pipeline.nlp.spans import bio_paths, decode_bio, merge_spans
from pipeline.nlp.text import sentences, snap_to_words
from pipeline.nlp.types import EntitySpan

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
    tokenizer: E5Tokenizer, texts: Sequence[str], max_tokens: int = WINDOW_TOKENS
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


class E5EntityRecognizer(HeadRunner):
    """The EntityRecognizer backed by a trained e5 token head (see `pipeline train ner`)."""

    task = "ner"

    def predict(self, texts: Sequence[str]) -> list[list[EntitySpan]]:
        found: list[list[EntitySpan]] = [[] for _ in texts]
        items = windows(self.tokenizer, texts)
        for rows, probs in self.probabilities([w.input_ids for w in items]):
            # Decode over the tokens that cover text: a bare "▁" between two words of a name
            # covers none, and a tag on it would only split the name.
            kept = [[j for j, (s, e) in enumerate(items[k].offsets) if s < e] for k in rows]
            content = np.zeros((len(rows), max(map(len, kept)), probs.shape[-1]), probs.dtype)
            for row, keep in enumerate(kept):
                content[row, : len(keep)] = probs[row, 1:][keep]  # skip <s>
            lengths = [len(keep) for keep in kept]
            paths = bio_paths(content, lengths, self.labels)
            for row, (k, path) in enumerate(zip(rows, paths, strict=True)):
                if not path:
                    continue
                window = items[k]
                scores = content[row, np.arange(len(path)), path]
                offsets = [window.offsets[j] for j in kept[row]]
                found[window.text_index] += self._spans(
                    texts[window.text_index], offsets, path, scores
                )
        return [merge_spans(spans) for spans in found]

    def _spans(
        self, text: str, offsets: Sequence[tuple[int, int]], path: list[int], scores: np.ndarray
    ) -> list[EntitySpan]:
        tags = [self.labels[i] for i in path]
        spans = []
        for span in decode_bio(tags, scores.tolist(), offsets):
            start, end = snap_to_words(text, span.start, span.end)
            if start < end:
                spans.append(EntitySpan(start, end, span.label, span.score))
        return spans
