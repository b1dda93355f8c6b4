"""BIO decoding and span merging, shared by every NER backend."""

from __future__ import annotations

import numpy as np

from pipeline.nlp.spans import (
    bio_paths,
    bio_tags,
    consistent_labels,
    decode_bio,
    merge_spans,
    normalize_label,
)
from pipeline.nlp.types import EntitySpan


def test_bio_tags_order() -> None:
    assert bio_tags(["PER", "LOC"]) == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_decode_bio_joins_continuations_and_starts_on_stray_i() -> None:
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-PER"]
    offsets = [(0, 3), (3, 6), (7, 8), (9, 12), (12, 14), (15, 18), (19, 22)]
    scores = [0.9, 0.7, 0.5, 0.6, 0.8, 1.0, 0.4]
    assert decode_bio(tags, scores, offsets) == [
        EntitySpan(0, 6, "PER", 0.8),
        EntitySpan(9, 14, "LOC", 0.7),
        EntitySpan(15, 18, "LOC", 1.0),
        EntitySpan(19, 22, "PER", 0.4),
    ]


def test_bio_paths_keep_a_name_whole_and_never_open_with_i() -> None:
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    probs = np.array(
        [
            # argmax: B-PER I-LOC (a label switch mid-name); the name as a whole is likelier PER
            [[0.1, 0.5, 0.0, 0.4, 0.0], [0.15, 0.0, 0.4, 0.0, 0.45], [0.9, 0.0, 0.1, 0.0, 0.0]],
            # argmax: I-PER first (no entity to continue); past its length the row is padding
            [[0.3, 0.0, 0.7, 0.0, 0.0], [0.2, 0.0, 0.0, 0.0, 0.8], [0.0, 0.0, 0.0, 1.0, 0.0]],
        ]
    )
    assert bio_paths(probs, [3, 1], tags) == [[1, 2, 0], [0]]
    assert bio_paths(probs[1:], [2], tags) == [[0, 0]]  # O then I-LOC is not a valid pair
    assert bio_paths(probs, [3, 0], tags) == [[1, 2, 0], []]  # a row with nothing to decode
    assert bio_paths(probs[:, :0], [0, 0], tags) == [[], []]  # a batch with nothing to decode


def test_merge_spans_joins_same_label_and_keeps_the_surer_of_a_conflict() -> None:
    spans = [
        EntitySpan(5, 9, "LOC", 0.5),
        EntitySpan(0, 6, "LOC", 0.9),
        EntitySpan(8, 12, "PER", 0.8),
        EntitySpan(20, 25, "ORG", 0.3),
        EntitySpan(22, 30, "PER", 0.6),
    ]
    assert merge_spans(spans) == [EntitySpan(0, 9, "LOC", 0.9), EntitySpan(22, 30, "PER", 0.6)]


def test_normalize_label_maps_other_conventions_onto_the_bsnlp_types() -> None:
    raw = ("B-PERS", "I-ORG", "GPE", "LocOrg", "DATE", "B-MISC", "NORP", "EVENT", "WORK_OF_ART")
    assert [normalize_label(x) for x in raw] == [
        "PER", "ORG", "LOC", "LOC", None, None, "PER", "EVT", "PRO",
    ]  # fmt: skip


def test_consistent_labels_give_one_name_one_type_unless_a_mention_is_sure() -> None:
    labels = ["ORG", "LOC", "LOC", "PER", "LOC"]
    scores = [0.95, 0.6, 0.92, 0.5, 0.8]
    keys = ["мей", "мей", "лондон", "лондон", "київ"]
    # мей: ORG 0.95 outweighs LOC 0.6; лондон: LOC 0.92 is sure, PER 0.5 is not
    assert consistent_labels(labels, scores, keys) == ["ORG", "ORG", "LOC", "LOC", "LOC"]
    assert consistent_labels(["PER", "ORG"], [0.95, 0.91], ["x", "x"]) == ["PER", "ORG"]
