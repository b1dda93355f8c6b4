"""Stance with our e5 head: a target marked in its evidence → favor / against / neutral."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.nlp.e5.runner import HeadRunner
from pipeline.nlp.e5.tokens import E5Tokenizer
from pipeline.nlp.types import StanceInput

MAX_TOKENS = 256  # target + evidence sentences; longer evidence is cut at the end
# Around each mention of the target in the evidence, so that the head judges that entity and
# not its neighbours, nor another mention of the same string. Each is one token of e5's
# vocabulary (wiki link brackets), rare in news text.
OPEN, CLOSE = "[[", "]]"


def marked(text: str, mentions: Sequence[tuple[int, int]]) -> str:
    """The text with `[[ mention ]]` around each mention (overlapping ones: the first kept)."""
    parts, at = [], 0
    for start, end in sorted(mentions):
        if start < at or not 0 <= start < end <= len(text):
            continue
        parts += [text[at:start], f"{OPEN} ", text[start:end], f" {CLOSE}"]
        at = end
    return "".join([*parts, text[at:]])


def encode_inputs(tokenizer: E5Tokenizer, inputs: Sequence[StanceInput]) -> list[list[int]]:
    """`<s> target </s></s> marked text </s>` ids, the text truncated to fit MAX_TOKENS."""
    if not inputs:
        return []
    encoded = tokenizer(
        [i.target for i in inputs],
        [marked(i.text, i.mentions) for i in inputs],
        truncation="only_second",
        max_length=MAX_TOKENS,
        return_attention_mask=False,
    )
    return encoded["input_ids"]


class E5Stance(HeadRunner):
    """The StanceClassifier backed by a trained e5 sequence head (see `pipeline train stance`)."""

    task = "stance"

    def distributions(self, inputs: Sequence[StanceInput]) -> np.ndarray:
        """(inputs, labels) calibrated probabilities, in the order of inputs."""
        encoded = encode_inputs(self.tokenizer, inputs)
        result = np.zeros((len(encoded), len(self.labels)), dtype=np.float32)
        for rows, probs in self.probabilities(encoded):
            result[rows] = probs
        return result
