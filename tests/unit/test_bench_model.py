"""The model benchmark runs both ways of tagging on the same texts and reports their ratio."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.bench.model import bench_model, bench_texts, format_report


def test_bench_texts_fall_back_to_the_seeds(tmp_path: Path) -> None:
    texts = bench_texts(tmp_path, 3)  # no SlavicNER here
    assert len(texts) == 3 and texts[0].startswith("Казахстан не є посередником")


def test_bench_model_times_naive_and_batched_ner_and_stance(
    e5_ner_head: Path, e5_stance_head: Path
) -> None:
    texts = bench_texts(None, 2)
    result = bench_model(e5_ner_head, e5_stance_head, texts)
    assert result["articles"] == 2 and result["tokens"] > 1000
    assert result["naive_tasks"] == ["ner", "stance"]
    assert result["naive_s"] > 0 and result["ours_s"] > 0
    assert result["speedup"] == pytest.approx(result["naive_s"] / result["ours_s"], abs=0.05)
    parts = result["ner_s"] + result["identity_s"] + result["stance_s"]
    assert result["ours_s"] == pytest.approx(parts, abs=0.01)
    assert result["stance_vs_ner"] == pytest.approx(result["stance_s"] / result["ner_s"], abs=0.01)
    report = format_report({**result, "threads": 1})
    assert "ratio:" in report and "stance on" in report
