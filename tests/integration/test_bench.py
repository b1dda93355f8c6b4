"""`pipeline bench --quick --json` runs end to end (real broker, real workers) and reports every
figure with its same-run baseline. It asserts no speed: speed is read from the output."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from pipeline.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration
KEYS = (
    "e2e_vs_naive", "efficiency", "overhead_articles_per_s", "overhead_vs_raw",
    "latency_p50_s", "latency_p99_s", "worker_rss_mb",
)  # fmt: skip


def test_quick_bench_reports_every_figure(kafka: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "bench", "--quick", "--json"],
        env={**os.environ, **kafka.to_env()},
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    figures = orjson.loads(result.stdout.splitlines()[-1])
    assert all(figures[key] > 0 for key in KEYS), figures
    assert figures["articles"] == 8
    assert figures["latency_p50_s"] <= figures["latency_p99_s"]
