"""Entity span helpers shared by every NER backend: label names, BIO decoding, merging."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from pipeline.contracts import entity_labels
from pipeline.nlp.types import EntitySpan

# Label names of other NER models and datasets → ours, the BSNLP way: nationalities and
# religious or political groups (OntoNotes NORP) are PER, facilities LOC, works of art PRO.
# Anything else (MISC, dates, quantities) is not published.
LABEL_ALIASES = {
    "PERS": "PER",
    "PERSON": "PER",
    "NORP": "PER",
    "ORGANIZATION": "ORG",
    "ORGANISATION": "ORG",
    "LOCATION": "LOC",
    "GPE": "LOC",
    "LOCORG": "LOC",
    "FAC": "LOC",
    "EVENT": "EVT",
    "PRODUCT": "PRO",
    "WORK_OF_ART": "PRO",
}


def normalize_label(raw: str) -> str | None:
    """`B-PERS` → `PER`; None for labels the pipeline does not publish."""
    name = raw.split("-", 1)[1] if raw[:2] in ("B-", "I-", "E-", "S-") else raw
    name = LABEL_ALIASES.get(name.upper(), name.upper())
    return name if name in entity_labels() else None


def bio_tags(labels: Sequence[str]) -> list[str]:
    """The BIO tag set for entity labels: O, B-X, I-X, … in a fixed order."""
    return ["O", *(f"{prefix}-{label}" for label in labels for prefix in ("B", "I"))]


def bio_paths(probs: np.ndarray, lengths: Sequence[int], tags: Sequence[str]) -> list[list[int]]:
    """The most probable valid BIO tag sequence of each row (Viterbi): I-X only after B-X or
    I-X. Per-token argmax lets one unsure token split a name in two or switch its label midway.

    probs: (rows, tokens, tags) probabilities; row r's first lengths[r] tokens are decoded.
    """
    if not probs.shape[1]:  # no row has a token to decode
        return [[] for _ in lengths]
    log_p = np.log(np.maximum(probs, 1e-12))
    inside = [tag[2:] if tag.startswith("I-") else None for tag in tags]
    allowed = np.array(
        [[inside[j] is None or prev[2:] == inside[j] for j in range(len(tags))] for prev in tags]
    )
    transition = np.where(allowed, 0.0, -np.inf)  # [previous tag, next tag]
    best = np.where([label is None for label in inside], log_p[:, 0], -np.inf)
    scores, back = [best], []
    for t in range(1, log_p.shape[1]):
        candidates = best[:, :, None] + transition  # [row, previous, next]
        back.append(candidates.argmax(1))
        best = candidates.max(1) + log_p[:, t]
        scores.append(best)
    paths = []
    for row, length in enumerate(lengths):
        if not length:
            paths.append([])
            continue
        tag = int(scores[length - 1][row].argmax())
        path = [tag]
        for t in range(length - 2, -1, -1):
            tag = int(back[t][row, tag])
            path.append(tag)
        paths.append(path[::-1])
    return paths


def decode_bio(
    tags: Sequence[str], scores: Sequence[float], offsets: Sequence[tuple[int, int]]
) -> list[EntitySpan]:
    """Token tags → character spans. An I- tag that does not continue an entity of its label
    starts one (models are not always consistent); a span's score is its tokens' mean."""
    spans: list[EntitySpan] = []
    label, start, end, probs = None, 0, 0, []

    def close() -> None:
        if label is not None:
            spans.append(EntitySpan(start, end, label, round(sum(probs) / len(probs), 4)))

    for tag, score, (tok_start, tok_end) in zip(tags, scores, offsets, strict=True):
        prefix, _, name = tag.partition("-")
        if prefix == "I" and name == label:
            end, probs = tok_end, [*probs, score]
            continue
        close()
        label, start, end, probs = (name, tok_start, tok_end, [score]) if name else (None, 0, 0, [])
    close()
    return spans


def merge_spans(spans: list[EntitySpan]) -> list[EntitySpan]:
    """Join overlapping spans of one label; of overlapping different labels keep the surer."""
    merged: list[EntitySpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.label == last.label:
                merged[-1] = EntitySpan(
                    last.start, max(last.end, span.end), last.label, max(last.score, span.score)
                )
            elif span.score > last.score:
                merged[-1] = span
            continue
        merged.append(span)
    return merged


# A prediction at least this sure keeps its own label against the rest of its document.
CONFIDENT = 0.9


def consistent_labels(
    labels: Sequence[str], scores: Sequence[float], keys: Sequence[str]
) -> list[str]:
    """One name, one type per document: each mention takes the label its name's mentions (same
    key: the same lemmas) give most weight, unless it is itself CONFIDENT otherwise. A name the
    model types one way in the title and, less surely, another way in the body is one entity."""
    votes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for label, score, key in zip(labels, scores, keys, strict=True):
        votes[key][label] += score
    return [
        label if score >= CONFIDENT else votes[key].most_common(1)[0][0]
        for label, score, key in zip(labels, scores, keys, strict=True)
    ]
