"""What a tagger takes and returns: plain dataclasses, shared by every backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

FIELDS = ("title", "body")


@dataclass(frozen=True, slots=True)
class Span:
    """Characters [start, end) of one text field of an article."""

    field: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Document:
    """An article as the tagger sees it; targets are topics (str) or body spans."""

    title: str
    body: str
    language: str
    targets: tuple[str | Span, ...] = ()

    def text(self, field_name: str) -> str:
        return self.title if field_name == "title" else self.body


@dataclass(frozen=True, slots=True)
class Entity:
    """A mention; entity_id is the same for every mention of one real-world entity, in any
    article or language (pipeline.nlp.identity). A tagger may leave it empty: the Enricher
    resolves it then."""

    span: Span
    text: str
    label: str
    score: float
    canonical: str
    entity_id: str = ""


@dataclass(frozen=True, slots=True)
class Stance:
    target: str
    target_type: str  # entity | topic | span
    label: str  # favor | against | neutral
    score: float
    evidence: tuple[Span, ...]
    span: Span | None = None  # the target itself, for target_type == "span"
    entity_id: str | None = None  # for target_type == "entity"


@dataclass(slots=True)
class Tagging:
    entities: list[Entity] = field(default_factory=list)
    stance: list[Stance] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    task: str  # ner | stance | langid | canonical | identity
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """A raw model prediction on one text: character offsets, label, confidence."""

    start: int
    end: int
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class StanceInput:
    """What stance is judged on: the target, the evidence text, and where in the text the
    target is mentioned (empty for a topic, which has no mention)."""

    target: str
    text: str
    mentions: tuple[tuple[int, int], ...] = ()  # character offsets into text, end exclusive


@dataclass(frozen=True, slots=True)
class StanceScore:
    label: str
    score: float


class Tagger(Protocol):
    """Documents → entities and stance; the one interface the pipeline calls."""

    models: Sequence[ModelInfo]

    def tag(self, docs: Sequence[Document]) -> list[Tagging]: ...


class EntityRecognizer(Protocol):
    """A NER backend: texts → entity spans (character offsets into each text)."""

    info: ModelInfo

    def predict(self, texts: Sequence[str]) -> list[list[EntitySpan]]: ...


class StanceClassifier(Protocol):
    """A stance backend: targets in their evidence → probabilities of its labels (favor,
    against, neutral), one row per input."""

    info: ModelInfo
    labels: Sequence[str]

    def distributions(self, inputs: Sequence[StanceInput]) -> np.ndarray: ...
