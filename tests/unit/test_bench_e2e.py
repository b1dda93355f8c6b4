"""The end-to-end bench's bare-model baseline: warmed up, then the best of its rounds."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.bench import e2e


class _Enricher:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def enrich(self, batch: list[dict[str, Any]]) -> None:
        self.calls.append([a["body"] for a in batch])


def test_the_bare_baseline_is_warmed_up_then_the_fastest_of_its_rounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([0.0, 5.0, 5.0, 8.0])  # round 1 takes 5 s, round 2 3 s
    monkeypatch.setattr(e2e.time, "perf_counter", lambda: next(clock))
    enricher = _Enricher()
    seconds = e2e._bare_seconds(enricher, ["a", "b", "c"], batch_size=2)  # type: ignore[arg-type]
    assert seconds == 3.0
    assert enricher.calls == [["a", "b"], ["a", "b"], ["c"], ["a", "b"], ["c"]]
