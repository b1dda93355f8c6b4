"""`pipeline bench --quick --json` runs end to end (real broker, real workers) and reports every
figure with its same-run baseline. It asserts no speed: speed is read from the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pipeline.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.integration
KEYS = (
    "e2e_vs_naive", "efficiency", "overhead_articles_per_s", "overhead_vs_raw",
    "latency_p50_s", "latency_p99_s", "worker_rss_mb",
)  # fmt: skip


def test_quick_bench_reports_every_figure(kafka: Settings, tmp_path: Path) -> None:
    plot = tmp_path / "bench.png"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "bench", "--quick", "--json", "--plot", str(plot)],
        env={**os.environ, **kafka.to_env()},
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    figures = orjson.loads(result.stdout.splitlines()[-1])
    assert all(figures[key] > 0 for key in KEYS), figures
    assert figures["articles"] == 8 and figures["naive_tasks"] == ["ner", "stance"]
    assert figures["latency_p50_s"] <= figures["latency_p99_s"]
    # The split of E2E's time: the worker's model ran within it, and each process used CPU.
    assert 0 < figures["e2e_model_s"] < figures["e2e_s"]
    assert set(figures["e2e_cpu_s"]) == {"workers", "broker", "bench"}
    assert all(seconds > 0 for seconds in figures["e2e_cpu_s"].values())
    assert "scale_2_vs_1" not in figures  # --quick leaves the two-worker run out
    assert figures["plot"] == str(plot) and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
