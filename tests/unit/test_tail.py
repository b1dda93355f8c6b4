"""`collect`: a reader that misses a wanted key gives way to a fresh one."""

from __future__ import annotations

from collections.abc import Generator
from types import SimpleNamespace

import pytest

from pipeline.kafka import tail
from pipeline.settings import Settings


def test_collect_reads_again_with_a_fresh_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = [[b"a", b"b"], [b"a", b"b", b"c"], [b"a", b"b", b"c", b"d"]]
    closed: list[int] = []

    def read_topic(*_: object, **kwargs: object) -> Generator[SimpleNamespace, None, None]:
        keys = passes[len(closed)]
        try:
            yield from (SimpleNamespace(key=k) for k in keys)
        finally:
            closed.append(len(keys))

    monkeypatch.setattr(tail, "read_topic", read_topic)
    found = tail.collect(Settings(), "t", [b"a", b"c"], timeout_s=60, pass_s=1)
    assert sorted(found) == [b"a", b"b", b"c"]  # the second reader's records
    assert [len(records) for records in found.values()] == [1, 1, 1]  # not the first's again
    assert closed == [2, 3]  # each reader closed; no third pass once every key was seen


def test_collect_gives_up_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def read_topic(*_: object, **kwargs: object) -> Generator[SimpleNamespace, None, None]:
        assert kwargs["timeout_s"] <= 0.2
        yield SimpleNamespace(key=b"a")

    monkeypatch.setattr(tail, "read_topic", read_topic)
    assert list(tail.collect(Settings(), "t", [b"a", b"z"], timeout_s=0.2, pass_s=5)) == [b"a"]
