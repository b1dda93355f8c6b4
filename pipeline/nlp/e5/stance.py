"""Stance with our e5 head: favor / against / neutral toward each target, many targets per
forward pass.

The head reads a sentence once, every target's mentions in it marked, and judges each entity
from the states of its own marked mentions (averaged, beside the sentence's mean): one pass
serves all targets of a sentence, and each mention is judged where it stands, not by its
string. A topic, which has no mention, is appended to its evidence as a second segment
(`<s> text </s></s> topic </s>`) and judged from the topic's tokens, which read the evidence
through attention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.nlp.e5.runner import HeadRunner, softmax
from pipeline.nlp.e5.tokens import E5Tokenizer
from pipeline.nlp.types import StanceInput

MAX_TOKENS = 256  # evidence (+ topic); longer evidence is cut at the end
MAX_TOPIC_TOKENS = 64  # a topic is a phrase; a longer one is cut
# Around every target's mentions in a text, so that the encoder sees where each entity it is
# asked about stands. Each is one token of e5's vocabulary (wiki link brackets), rare in news.
OPEN, CLOSE = "[[", "]]"


@dataclass(frozen=True, slots=True)
class Encoded:
    """One model input and, per target judged on it, the token positions that stand for it."""

    input_ids: list[int]
    pools: list[tuple[int, ...]]


def marked(
    text: str, mentions: Sequence[tuple[int, int]]
) -> tuple[str, dict[tuple[int, int], tuple[int, int]]]:
    """The text with `[[ mention ]]` around each mention (overlapping ones: the first kept),
    and where each mention went, its marks included."""
    parts, at, shift, moved = [], 0, 0, {}
    for start, end in sorted(set(mentions)):
        if start < at or not 0 <= start < end <= len(text):
            continue
        parts += [text[at:start], f"{OPEN} ", text[start:end], f" {CLOSE}"]
        moved[(start, end)] = (start + shift, end + shift + len(OPEN) + len(CLOSE) + 2)
        shift += len(OPEN) + len(CLOSE) + 2
        at = end
    return "".join([*parts, text[at:]]), moved


def _target_positions(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]
) -> tuple[int, ...]:
    """Positions (after `<s>`) of the tokens that cover a span's characters; every text token
    when the spans were cut off or cover none."""
    inside = tuple(
        1 + i
        for i, (start, end) in enumerate(offsets)
        if end > start and any(start < s_end and s_start < end for s_start, s_end in spans)
    )
    return inside or tuple(range(1, 1 + len(offsets)))


def encode_inputs(
    tokenizer: E5Tokenizer, inputs: Sequence[StanceInput]
) -> tuple[list[Encoded], list[tuple[int, int]]]:
    """The model inputs, inputs that share an evidence text and are mentioned in it sharing
    one (a pool each: its marked mentions), and where each input went: (index into the
    Encoded list, its pool). Each text is tokenised once."""
    if not inputs:
        return [], []
    mentioned: dict[str, set[tuple[int, int]]] = {}
    for item in inputs:
        if item.mentions:
            mentioned.setdefault(item.text, set()).update(item.mentions)
    readings = {text: marked(text, list(spans)) for text, spans in mentioned.items()}
    plain = {i.text for i in inputs if not i.mentions}
    read = [readings[t][0] for t in readings] + list(plain)
    topics = list({i.target for i in inputs if not i.mentions})
    tokens = tokenizer(read, add_special_tokens=False, return_offsets_mapping=True)
    pieces = {
        text: (ids, offsets)
        for text, ids, offsets in zip(
            read, tokens["input_ids"], tokens["offset_mapping"], strict=True
        )
    }
    topic_ids = tokenizer(topics, add_special_tokens=False)["input_ids"] if topics else []
    topic_pieces = dict(zip(topics, topic_ids, strict=True))
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    rows: dict[tuple[int, ...], int] = {}
    encoded: list[Encoded] = []
    where = []
    for item in inputs:
        if item.mentions:
            text, moved = readings[item.text]
            text_ids, offsets = pieces[text]
            kept = min(len(text_ids), MAX_TOKENS - 2)
            ids = [cls, *text_ids[:kept], sep]
            spans = [moved[m] for m in item.mentions if m in moved]
            pool = _target_positions(offsets[:kept], spans)
        else:
            text_ids = pieces[item.text][0]
            topic = topic_pieces[item.target][:MAX_TOPIC_TOKENS]
            kept = min(len(text_ids), MAX_TOKENS - 4 - len(topic))
            ids = [cls, *text_ids[:kept], sep, sep, *topic, sep]
            pool = tuple(range(kept + 3, kept + 3 + len(topic))) or (0,)
        row = rows.setdefault(tuple(ids), len(encoded))
        if row == len(encoded):
            encoded.append(Encoded(ids, []))
        where.append((row, len(encoded[row].pools)))
        encoded[row].pools.append(pool)
    return encoded, where


def target_logits(
    token_logits: np.ndarray, sentence_logits: np.ndarray, pools: Sequence[tuple[int, ...]]
) -> np.ndarray:
    """One row's logits per target: the classifier is linear in [mean of the target's token
    states; mean of all states], so its logits are the mean of the per-token part over the
    target's tokens plus the sentence part."""
    return np.stack([token_logits[list(pool)].mean(0) + sentence_logits for pool in pools])


class E5Stance(HeadRunner):
    """The StanceClassifier backed by a trained e5 span head (see `pipeline train stance`)."""

    task = "stance"

    def distributions(self, inputs: Sequence[StanceInput]) -> np.ndarray:
        """(inputs, labels) calibrated probabilities, in the order of inputs."""
        encoded, where = encode_inputs(self.tokenizer, inputs)
        logits: list[np.ndarray] = [np.empty(0)] * len(encoded)
        for rows, (per_token, per_row) in self.outputs([e.input_ids for e in encoded]):
            for at, row in enumerate(rows):
                logits[row] = target_logits(per_token[at], per_row[at], encoded[row].pools)
        result = np.zeros((len(inputs), len(self.labels)), dtype=np.float32)
        for k, (row, pool) in enumerate(where):
            result[k] = softmax(logits[row][pool] / self.temperature)
        return result
