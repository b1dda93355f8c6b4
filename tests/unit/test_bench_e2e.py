"""The end-to-end bench's bare-model baseline (warmed up, then the best of its rounds) and what
it reads of the processes it times (CPU seconds, a worker's metrics)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Histogram, start_http_server

from pipeline.bench import e2e
from pipeline.local import WorkerProcess, cpu_seconds
from pipeline.settings import Settings


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


def test_cpu_seconds_counts_this_process_work() -> None:
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.2


def test_a_workers_metric_is_read_from_its_metrics_page(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    tagging = Histogram("pipeline_tagging_seconds", "", registry=registry)
    tagging.observe(1.5)
    tagging.observe(2.0)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        worker = WorkerProcess(
            Settings(data_dir=tmp_path, web_host="127.0.0.1", web_port=server.server_port)
        )
        assert worker.metric("pipeline_tagging_seconds_sum") == 3.5
        assert worker.metric("pipeline_tagging_seconds_count") == 2
        assert worker.metric("no_such_metric") == 0
    finally:
        server.shutdown()
        thread.join()
