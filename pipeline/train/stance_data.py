"""Readers for the labelled stance and NLI data in ../shared/data, mapped onto one label set each.

The data are read in place, never copied into the project (see the data README). Each
reader knows one dataset's file layout and maps its labels onto STANCE_LABELS or NLI_LABELS.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pipeline.contracts import stance_labels
from pipeline.nlp.targets import MAX_EVIDENCE
from pipeline.nlp.text import sentences
from pipeline.nlp.types import StanceInput

STANCE_LABELS = stance_labels()
NLI_LABELS = ("entailment", "neutral", "contradiction")

TEACHER = "teacher"  # the source of soft labels: see _teacher

# RuSentNE's official validation set is withheld: one sentence in this many is held out instead.
_HELDOUT_EVERY = 10


@dataclass(frozen=True, slots=True)
class StanceExample:
    text: str  # the sentence(s) that mention the target
    target: str  # the target as written (entity surface or topic)
    label: str  # in STANCE_LABELS: how the text treats the target
    lang: str
    source: str  # a dataset of STANCE_DATASETS or NLI_DATASETS
    span: tuple[int, int] | None  # the target's mention in text (end exclusive) when known
    soft: tuple[float, ...] | None = None  # a teacher's distribution (STANCE_LABELS' order)

    def as_input(self) -> StanceInput:
        """What the stance head reads: the target located in the text when the data knows where."""
        return StanceInput(self.target, self.text, (self.span,) if self.span else ())


@dataclass(frozen=True, slots=True)
class NliExample:
    premise: str
    hypothesis: str
    label: str  # in NLI_LABELS
    lang: str
    source: str  # "xnli", "terra", "sick"


def _label(mapping: Mapping[Any, str], raw: Any, path: Path) -> str:
    """The mapped label; an unknown one is a format change worth stopping for, not skipping."""
    try:
        return mapping[raw]
    except KeyError:
        raise ValueError(f"{path}: unexpected label {raw!r}") from None


def _span(text: str, start: int, end: int, target: str) -> tuple[int, int] | None:
    """The offsets only when they point at the target: a span that does not is not known."""
    return (start, end) if text[start:end] == target else None


def _csv(
    path: Path,
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
    fieldnames: tuple[str, ...] | None = None,
) -> list[dict[str, str]]:
    with path.open(newline="", encoding=encoding) as f:
        reader = csv.DictReader(f, fieldnames=fieldnames, delimiter=delimiter, quoting=quoting)
        return list(reader)


def _tsv(path: Path, fieldnames: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """Unquoted tab-separated rows: a quote character there is text, not CSV quoting."""
    return _csv(path, delimiter="\t", quoting=csv.QUOTE_NONE, fieldnames=fieldnames)


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        yield from (json.loads(line) for line in f if line.strip())


# --- stance -----------------------------------------------------------------------------------

_RUSENTNE = {"-1": "against", "0": "neutral", "1": "favor"}


def _rusentne_split(sentence: str) -> str:
    """'heldout' or 'train' by a hash that is stable across runs, so no sentence ever moves."""
    digest = hashlib.blake2b(sentence.encode("utf-8"), digest_size=8).digest()
    return "heldout" if int.from_bytes(digest, "big") % _HELDOUT_EVERY == 0 else "train"


def _rusentne(split: str, data_dir: Path) -> list[StanceExample]:
    # Tab-separated but CSV-quoted: sentences that contain '"' are wrapped in quotes.
    path = data_dir / "rusentne2023" / "train_data.csv"
    return [
        StanceExample(
            text=row["sentence"],
            target=row["entity"],
            label=_label(_RUSENTNE, row["label"], path),
            lang="ru",
            source="rusentne",
            span=_span(
                row["sentence"],
                int(row["entity_pos_start_rel"]),
                int(row["entity_pos_end_rel"]),
                row["entity"],
            ),
        )
        for row in _csv(path, delimiter="\t")
        if _rusentne_split(row["sentence"]) == split
    ]


_NEWSMTSC_DIR = Path("newsmtsc/NewsSentiment/controller_data/datasets/NewsMTSC-dataset")
_NEWSMTSC = {2.0: "against", 4.0: "neutral", 6.0: "favor"}  # polarity is stored as a float


def _newsmtsc(split: str, data_dir: Path) -> list[StanceExample]:
    # "to" is exclusive, although the dataset's readme calls it the mention's last character.
    path = data_dir / _NEWSMTSC_DIR / f"{split}.jsonl"
    return [
        StanceExample(
            text=record["sentence_normalized"],
            target=target["mention"],
            label=_label(_NEWSMTSC, float(target["polarity"]), path),
            lang="en",
            source="newsmtsc",
            span=_span(
                record["sentence_normalized"], target["from"], target["to"], target["mention"]
            ),
        )
        for record in _jsonl(path)
        for target in record["targets"]
    ]


# "unrelated" (the body is about something else) is no stance toward the headline: dropped.
_FNC1 = {"agree": "favor", "disagree": "against", "discuss": "neutral"}


def _lead(body: str) -> str:
    """The body's first sentences, as many as the tagger reads as evidence for one target."""
    return " ".join(body[start:end] for start, end in sentences(body)[:MAX_EVIDENCE])


def _fnc1(split: str, data_dir: Path) -> list[StanceExample]:
    folder = data_dir / "fnc1"
    bodies = {
        row["Body ID"]: _lead(row["articleBody"])
        for row in _csv(folder / f"competition_{split}_bodies.csv")
    }
    path = folder / f"competition_{split}_stances.csv"
    return [
        StanceExample(
            text=bodies[row["Body ID"]],
            target=row["Headline"].strip(),
            label=_label(_FNC1, row["Stance"], path),
            lang="en",
            source="fnc1",
            span=None,
        )
        for row in _csv(path)
        if row["Stance"] != "unrelated"
    ]


_RUW = {"FAVOR": "favor", "AGAINST": "against", "NONE": "neutral"}


def _ruw_stance(split: str, data_dir: Path) -> list[StanceExample]:
    # The files are GB18030 (saved on a Chinese-locale system): '…' is the bytes A1 AD there.
    path = data_dir / "ruw-stance" / f"raw_{split}_Russia_Ukraine.csv"
    return [
        StanceExample(
            text=row["Tweet"],
            target=row[f"Target {i}"],
            label=_label(_RUW, row[f"Stance {i}"], path),
            lang="en",
            source="ruw-stance",
            span=None,
        )
        for row in _csv(path, encoding="gb18030")
        for i in (1, 2)
        if row[f"Target {i}"]
    ]


# Our own Ukrainian check set (no Ukrainian stance data exists here): sentences written for it,
# the target marked [[ like this ]] in place. For evaluation only: never a training source.
_UK_CHECK = Path(__file__).parent / "checks" / "uk_stance.jsonl"
_MARKED = re.compile(r"\[\[(.+?)\]\]")


def _uk_check(split: str, data_dir: Path) -> list[StanceExample]:
    examples = []
    for record in _jsonl(_UK_CHECK):
        found = _MARKED.search(record["text"])
        if found is None:
            raise ValueError(f"{_UK_CHECK}: no [[target]] in {record['text']!r}")
        text = _MARKED.sub(r"\1", record["text"], count=1)
        span = (found.start(), found.end() - 4)
        label = _label({k: k for k in STANCE_LABELS}, record["label"], _UK_CHECK)
        examples.append(StanceExample(text, found.group(1), label, "uk", "uk-check", span))
    return examples


# --- NLI --------------------------------------------------------------------------------------

_XNLI = {label: label for label in NLI_LABELS}
_XNLI_LANGS = (
    "ar",
    "bg",
    "de",
    "el",
    "en",
    "es",
    "fr",
    "hi",
    "ru",
    "sw",
    "th",
    "tr",
    "ur",
    "vi",
    "zh",
)


def _xnli(split: str, data_dir: Path) -> list[NliExample]:
    path = data_dir / "xnli-dev" / "data" / "xnli" / f"dev-{split}.tsv"
    return [
        NliExample(
            row["premise"], row["hypothesis"], _label(_XNLI, row["label"], path), split, "xnli"
        )
        for row in _tsv(path, fieldnames=("premise", "hypothesis", "label"))
    ]


# TERRa is two-way: "not entailed" says the hypothesis does not follow, which is NLI's "neutral";
# calling it a contradiction would claim more than the annotators did.
_TERRA = {"entailment": "entailment", "not_entailment": "neutral"}


def _terra(split: str, data_dir: Path) -> list[NliExample]:
    path = data_dir / "terra-ru" / "data" / "TERRa" / f"{split}.jsonl"
    return [
        NliExample(r["premise"], r["hypothesis"], _label(_TERRA, r["label"], path), "ru", "terra")
        for r in _jsonl(path)
    ]


_SICK = {label.upper(): label for label in NLI_LABELS}
_SICK_FILES = {
    "train": "SICK_train.txt",
    "trial": "SICK_trial.txt",
    "test": "SICK_test_annotated.txt",
}


def _sick(split: str, data_dir: Path) -> list[NliExample]:
    path = data_dir / "sick2014" / "data" / "sts" / "sick2014" / _SICK_FILES[split]
    return [
        NliExample(
            premise=row["sentence_A"],
            hypothesis=row["sentence_B"],
            label=_label(_SICK, row["entailment_judgment"], path),
            lang="en",
            source="sick",
        )
        for row in _tsv(path)
    ]


def _teacher(path: Path) -> list[StanceExample]:
    """Unlabelled sentences judged by a teacher head: JSON lines of text, target, span, lang,
    source and probs (STANCE_LABELS' order); the label is the teacher's argmax."""
    examples = []
    for row in _jsonl(path):
        probs = tuple(float(p) for p in row["probs"])
        if len(probs) != len(STANCE_LABELS):
            raise ValueError(f"{path}: {len(probs)} probabilities, not {len(STANCE_LABELS)}")
        label = STANCE_LABELS[max(range(len(probs)), key=probs.__getitem__)]
        span = _span(row["text"], *row["span"], row["target"])
        examples.append(
            StanceExample(row["text"], row["target"], label, row["lang"], TEACHER, span, probs)
        )
    return examples


# --- registry ---------------------------------------------------------------------------------

_T = TypeVar("_T")
_Reader = Callable[[str, Path], list[_T]]

_STANCE: dict[str, tuple[tuple[str, ...], _Reader[StanceExample]]] = {
    "rusentne": (("train", "heldout"), _rusentne),
    "newsmtsc": (("train", "devtest_mt"), _newsmtsc),
    "fnc1": (("test",), _fnc1),
    "ruw-stance": (("train", "val", "test"), _ruw_stance),
    "uk-check": (("test",), _uk_check),
}
_NLI: dict[str, tuple[tuple[str, ...], _Reader[NliExample]]] = {
    "xnli": (_XNLI_LANGS, _xnli),
    "terra": (("train", "val"), _terra),
    "sick": (tuple(_SICK_FILES), _sick),
}
STANCE_DATASETS: dict[str, tuple[str, ...]] = {name: s for name, (s, _) in _STANCE.items()}
NLI_DATASETS: dict[str, tuple[str, ...]] = {name: s for name, (s, _) in _NLI.items()}


def _load(
    registry: dict[str, tuple[tuple[str, ...], _Reader[_T]]], name: str, split: str, data_dir: Path
) -> list[_T]:
    if name not in registry:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(registry)}")
    splits, reader = registry[name]
    if split not in splits:
        raise ValueError(f"{name} has no split {split!r}; it has: {', '.join(splits)}")
    return reader(split, data_dir)


# An NLI pair is stance toward a claim: the premise supports it, contradicts it, or neither, as
# FNC-1's bodies agree or disagree with their headlines. It teaches the head targets that are
# statements or topics rather than names, in more languages than the stance data has.
_NLI_STANCE = {"entailment": "favor", "contradiction": "against", "neutral": "neutral"}


def _as_stance(read_nli: _Reader[NliExample]) -> _Reader[StanceExample]:
    def read(split: str, data_dir: Path) -> list[StanceExample]:
        return [
            StanceExample(e.premise, e.hypothesis, _NLI_STANCE[e.label], e.lang, e.source, None)
            for e in read_nli(split, data_dir)
        ]

    return read


# What `load_stance` reads: the stance sets, and the NLI sets as stance toward the hypothesis.
_STANCE_OR_NLI = {**_STANCE, **{n: (s, _as_stance(r)) for n, (s, r) in _NLI.items()}}


def load_stance(name: str, split: str, data_dir: Path) -> list[StanceExample]:
    """One split of a stance or NLI dataset (STANCE_DATASETS, NLI_DATASETS) as stance examples:
    NLI pairs become (target = hypothesis, text = premise). `teacher` reads a file of a
    teacher's judgements instead, its path as the split (`teacher:runs/teacher.jsonl`)."""
    if name == TEACHER:
        return _teacher(Path(split))
    return _load(_STANCE_OR_NLI, name, split, data_dir)


def load_nli(name: str, split: str, data_dir: Path) -> list[NliExample]:
    """One split of an NLI dataset (see NLI_DATASETS), labels in NLI_LABELS."""
    return _load(_NLI, name, split, data_dir)
