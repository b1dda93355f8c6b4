"""A fast stand-in tagger for tests that exercise the pipeline around the model.

Workers load it with `PIPELINE_TAGGER=tests.fake_taggers:from_env` (any `module:callable`
works the same way): every capitalised word is a LOC entity, a document containing POISON
makes the whole call raise (like a model that chokes on one input),
FAKE_TAGGER_DELAY_S slows each call down (like a real model, so crashes land mid-batch) and a
call with a document containing FAKE_TAGGER_HANG_ON (when set) never returns (a worker stuck
while its event loop still answers).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence

from pipeline.nlp.types import Document, Entity, ModelInfo, Span, Tagging

POISON = "POISON"
WORD = re.compile(r"\b[A-ZА-ЯІЇЄҐ]\w+")


class FakeTagger:
    models = (ModelInfo("ner", "fake-capitalised-words", "1"),)

    def __init__(self, delay_s: float = 0.0, hang_on: str = "") -> None:
        self.delay_s = delay_s
        self.hang_on = hang_on

    def tag(self, docs: Sequence[Document]) -> list[Tagging]:
        time.sleep(self.delay_s)
        if self.hang_on and any(self.hang_on in d.body for d in docs):
            threading.Event().wait()
        if any(POISON in d.body for d in docs):
            raise RuntimeError("model failure")
        return [Tagging(entities=self._entities(d)) for d in docs]

    @staticmethod
    def _entities(doc: Document) -> list[Entity]:
        return [
            Entity(Span("body", m.start(), m.end()), m.group(), "LOC", 0.9, m.group())
            for m in WORD.finditer(doc.body)
            if m.group() != POISON
        ]


def from_env() -> FakeTagger:
    return FakeTagger(
        float(os.environ.get("FAKE_TAGGER_DELAY_S", "0")), os.environ.get("FAKE_TAGGER_HANG_ON", "")
    )
