"""Entity span helpers shared by every NER backend: label names, BIO decoding, merging."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.nlp.types import EntitySpan

# Label names used by common NER datasets → the pipeline's labels.
LABEL_ALIASES = {
    "PERS": "PER",
    "PERSON": "PER",
    "ORGANIZATION": "ORG",
    "ORGANISATION": "ORG",
    "LOCATION": "LOC",
    "GPE": "LOC",
    "LOCORG": "LOC",
    "EVENT": "EVT",
    "PRODUCT": "PRO",
}
KNOWN_LABELS = ("PER", "ORG", "LOC", "MISC", "EVT", "PRO")


def normalize_label(raw: str) -> str | None:
    """`B-PERS` → `PER`; None for labels the pipeline does not publish."""
    name = raw.split("-", 1)[1] if raw[:2] in ("B-", "I-", "E-", "S-") else raw
    name = LABEL_ALIASES.get(name.upper(), name.upper())
    return name if name in KNOWN_LABELS else None


def bio_tags(labels: Sequence[str]) -> list[str]:
    """The BIO tag set for entity labels: O, B-X, I-X, … in a fixed order."""
    return ["O", *(f"{prefix}-{label}" for label in labels for prefix in ("B", "I"))]


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
