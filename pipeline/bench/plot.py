"""The benchmark's figures as one PNG: each measure beside its same-run baseline and its goal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # no pyplot: no display, no global state

BLUE, GREY, RED = "#2b6cb0", "#a0aec0", "#c53030"


def _bars(
    ax: Any, title: str, bars: dict[str, float], unit: str, goal: float | None = None
) -> None:
    names, values = list(bars), list(bars.values())
    drawn = ax.bar(names, values, color=[GREY, *[BLUE] * (len(values) - 1)])
    ax.bar_label(drawn, labels=[f"{v:,.0f}" if v >= 10 else f"{v:.2f}" for v in values])
    if goal is not None:
        ax.axhline(goal, color=RED, linestyle="--", linewidth=1, label=f"goal {goal:,g} {unit}")
        ax.legend(loc="best", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(unit)
    ax.tick_params(axis="x", labelsize=8)


def plot(result: dict[str, Any], path: Path) -> Path:
    """Write the figure to `path`; grey bars are the baselines measured in the same run."""
    r = result
    panels = 5 if "scale_2_vs_1" in r else 4
    fig = Figure(figsize=(4 * panels, 4.2), layout="constrained")
    axes = fig.subplots(1, panels)
    naive = r["naive_tokens_per_s"]
    _bars(axes[0], f"Throughput (e2e_vs_naive {r['e2e_vs_naive']})", {
        "naive HF NER +\nzero-shot stance": naive,
        "bare Enricher\nno Kafka": r["bare_tokens_per_s"],
        "end to end\n1 worker": r["e2e_tokens_per_s"],
    }, "tokens/s", goal=5 * naive)  # fmt: skip
    _bars(axes[1], f"Overhead, null tagger ({r['overhead_vs_raw']} of raw)", {
        "raw aiokafka\nloop": r["raw_articles_per_s"], "worker": r["overhead_articles_per_s"],
    }, "articles/s")  # fmt: skip
    _bars(axes[2], f"Latency at {r['latency_rate_per_s']} articles/s", {
        "p50": r["latency_p50_s"], "p95": r["latency_p95_s"], "p99": r["latency_p99_s"],
    }, "seconds", goal=2)  # fmt: skip
    axes[2].patches[0].set_color(BLUE)  # no baseline in this panel
    _bars(axes[3], "Peak RSS", {
        "null tagger": r["null_worker_rss_mb"], "e5 worker": r["worker_rss_mb"],
    }, "MB", goal=1500)  # fmt: skip
    if panels == 5:
        _bars(axes[4], f"Scale on this machine ({r['scale_2_vs_1']}x)", {
            "1 worker": r["scale_1_worker_articles_per_s"],
            "2 workers\n1 thread each": r["scale_2_workers_articles_per_s"],
        }, "articles/s")  # fmt: skip
    fig.suptitle(f"pipeline bench: {r['articles']} articles, {r['tokens']:,} tokens", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
