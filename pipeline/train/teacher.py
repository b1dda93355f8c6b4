"""Soft labels for distillation (`pipeline label stance`): a trained stance head's judgement of
every name in unlabelled news sentences, the NER corpora's gold names as targets.

A head that is right but slow teaches a faster one on far more news than the stance sets hold,
in the languages they lack (Ukrainian). `pipeline train stance --sources teacher:FILE` reads
the file as soft labels.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.nlp.e5.stance import E5Stance
from pipeline.nlp.text import sentences
from pipeline.nlp.types import StanceInput
from pipeline.train.ner_data import (
    HELD_OUT_TOPIC,
    TRAINING_TOPICS,
    NerExample,
    Span,
    flatten,
    load,
)
from pipeline.train.stance_data import load_stance

# name:split[:cap], cap: sentences kept (a seeded sample of those that name someone). Every
# SlavicNER topic we hold: nord_stream is held out from NER, which never reads these labels.
DEFAULT_SOURCES = (
    *(f"slavicner:{topic}" for topic in sorted((*TRAINING_TOPICS, HELD_OUT_TOPIC))),
    "ner-uk:train:3500",
    "conll2003:train:2000",
    "factrueval:dev",
)
# Russian news that no NER corpus holds, with its own targets (see _UNLABELLED); not defaults,
# as the heads shipped so far were taught without them.
NEWS_SOURCES = ("rusentne:final", "rusentrel:all")
MAX_TARGETS = 8  # per sentence, in order of first mention
MIN_CHARS, MAX_CHARS = 25, 600  # shorter: a headline or a fragment; longer: a list, not prose
_BATCH = 512
_SEED = 7


def targets(examples: Sequence[NerExample], source: str, cap: int | None) -> list[dict[str, Any]]:
    """A row per distinct name of each prose sentence that names any (its first mention), each
    sentence once; with a cap, a seeded sample of cap sentences."""
    found: dict[str, tuple[str, list[tuple[str, tuple[int, int]]]]] = {}
    for example in examples:
        for start, end in sentences(example.text):
            if not MIN_CHARS <= end - start <= MAX_CHARS:
                continue
            text = example.text[start:end]
            first: dict[str, tuple[int, int]] = {}
            for s, e, _ in example.spans:
                if start <= s and e <= end:
                    first.setdefault(text[s - start : e - start], (s - start, e - start))
            if first:
                found[text] = (example.lang, list(first.items())[:MAX_TARGETS])
    chosen = list(found.items())
    if cap is not None and len(chosen) > cap:
        chosen = random.Random(_SEED).sample(chosen, cap)
    return [
        {"text": text, "target": name, "span": list(span), "lang": lang, "source": source}
        for text, (lang, names) in chosen
        for name, span in names
    ]


def _rusentne_final(data_dir: Path) -> list[dict[str, Any]]:
    """RuSentNE's final-phase sentences, whose labels are not published, with the contest's own
    targets (names, professions, nationalities); any sentence of the labelled file left out."""
    labelled = {
        e.text for split in ("train", "heldout") for e in load_stance("rusentne", split, data_dir)
    }
    with (data_dir / "rusentne2023" / "final_data.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    found = []
    for row in rows:
        text, start, end = row["sentence"], row["entity_pos_start_rel"], row["entity_pos_end_rel"]
        if text not in labelled and text[int(start) : int(end)] == row["entity"]:
            span = [int(start), int(end)]
            found.append(
                {"text": text, "target": row["entity"], "span": span, "lang": "ru",
                 "source": "rusentne:final"}
            )  # fmt: skip
    return found


# RuSentRel marks each paragraph "{Author, Unknown}" (the opinion holders it annotates) and
# those two words as names: blanked, so offsets stay exact. GEOPOLIT: states and capitals.
_RUSENTREL_HOLDERS = "{Author, Unknown}"
_RUSENTREL_LABELS = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "GEOPOLIT": "LOC"}


def _rusentrel_document(text_path: Path) -> NerExample:
    """One inosmi.ru article with the names its .ann file marks (found by a CRF tagger)."""
    text = text_path.read_bytes().decode("utf-8")
    text = text.replace(_RUSENTREL_HOLDERS, " " * len(_RUSENTREL_HOLDERS))
    spans: list[Span] = []
    for line in text_path.with_suffix(".ann").read_text(encoding="utf-8").splitlines():
        _, kind_start_end, surface = line.split("\t")
        kind, start, end = kind_start_end.split()
        if kind in _RUSENTREL_LABELS and text[int(start) : int(end)] == surface:
            spans.append((int(start), int(end), _RUSENTREL_LABELS[kind]))
    return NerExample(text, tuple(flatten(spans)[0]), "ru", "rusentrel")


def _rusentrel(data_dir: Path) -> list[dict[str, Any]]:
    """Every sentence of RuSentRel's 73 analytical articles (train and test) that names any."""
    folder = data_dir / "rusentrel"
    documents = [
        _rusentrel_document(path.with_suffix(".txt"))
        for split in ("train", "test")
        for path in sorted((folder / split).glob("art*.ann"), key=lambda p: int(p.stem[3:]))
    ]
    return targets(documents, "rusentrel:all", None)


_UNLABELLED = {"rusentne:final": _rusentne_final, "rusentrel:all": _rusentrel}


def source_targets(source: str, data_dir: Path) -> list[dict[str, Any]]:
    """The rows to judge of one `name:split[:cap]` source (a NER corpus or NEWS_SOURCES)."""
    if source in _UNLABELLED:
        return _UNLABELLED[source](data_dir)
    name, split, *cap = source.split(":")
    return targets(load(name, split, data_dir), f"{name}:{split}", int(cap[0]) if cap else None)


def judged(head: E5Stance, rows: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows with the head's calibrated probabilities (STANCE_LABELS' order) added."""
    for at in range(0, len(rows), _BATCH):
        chunk = rows[at : at + _BATCH]
        probs = head.distributions(
            [StanceInput(r["target"], r["text"], (tuple(r["span"]),)) for r in chunk]
        )
        for row, p in zip(chunk, probs, strict=True):
            yield {**row, "probs": [round(float(x), 4) for x in p]}


def write_teacher_labels(
    head_dir: Path, data_dir: Path, out: Path, sources: Sequence[str] = DEFAULT_SOURCES,
    backend: str = "onnx-int8",
) -> int:  # fmt: skip
    """Judge the sources' names with the head and write them to out as JSON lines; returns
    how many."""
    rows = [row for source in sources for row in source_targets(source, data_dir)]
    head = E5Stance(head_dir, backend=backend)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for row in judged(head, rows):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)
