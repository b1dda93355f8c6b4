"""Stance with our e5 head: (target, sentences) → favor / against / neutral."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.nlp.e5.runner import HeadRunner
from pipeline.nlp.e5.tokens import E5Tokenizer
from pipeline.nlp.types import StanceScore

MAX_TOKENS = 256  # target + evidence sentences; longer evidence is cut at the end


def encode_pairs(tokenizer: E5Tokenizer, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
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


class E5Stance(HeadRunner):
    """The StanceClassifier backed by a trained e5 sequence head (see `pipeline train stance`)."""

    task = "stance"

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[StanceScore]:
        inputs = encode_pairs(self.tokenizer, pairs)
        results: list[StanceScore] = [StanceScore("neutral", 0.0)] * len(inputs)
        for rows, probs in self.probabilities(inputs):
            scores, best = probs.max(-1), probs.argmax(-1)
            for k, score, label in zip(rows, scores.tolist(), best.tolist(), strict=True):
                results[k] = StanceScore(self.labels[label], round(score, 4))
        return results
