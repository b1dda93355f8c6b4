"""The trainable tasks by name, so `pipeline train` and `pipeline eval` treat them alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.build.head_config import HeadConfig
from pipeline.train import ner, ner_data, stance, stance_data
from pipeline.train.loop import TrainConfig, read_sources, training_device


@dataclass(frozen=True)
class Task:
    config: type[TrainConfig]
    load: Callable[[str, str, Path], list]
    train: Callable[..., Path]
    eval_sources: tuple[str, ...]
    evaluate: Callable[[Path, Sequence[Any], str], dict]


def _evaluate_ner(head: Path, examples: Sequence[Any], backend: str) -> dict:
    labels = sorted({t.split("-", 1)[-1] for t in HeadConfig.read(head).labels} - {"O"})
    scores = ner.evaluate_ner(head, examples, labels, backend)
    languages = ", ".join(
        f"{k} {v['micro']['f1']:.4f} ({v['micro_per_org_loc']['f1']:.4f})"
        for k, v in scores["by_language"].items()
    )
    summary = (
        f"micro F1 {scores['micro']['f1']:.4f}, PER/ORG/LOC "
        f"{scores['micro_per_org_loc']['f1']:.4f}; by language {languages}; "
        f"{scores['micro_without_consistency']['f1']:.4f} without document consistency; "
        f"PER/ORG/LOC {scores['micro_per_org_loc_ignoring_quotes']['f1']:.4f} ignoring quotes"
    )
    return {"summary": summary, **scores}


def _evaluate_stance(head: Path, examples: Sequence[Any], backend: str) -> dict:
    scores = stance.evaluate_stance(head, examples, backend)
    summary = f"macro F1 {scores['macro_f1']:.4f}, favor/against F1 {scores['pn_f1']:.4f}"
    return {"summary": summary, **scores}


TASKS = {
    "ner": Task(ner.NerTrainConfig, ner_data.load, ner.train_ner, ner.EVAL_SOURCES, _evaluate_ner),
    "stance": Task(
        stance.StanceTrainConfig,
        stance_data.load_stance,
        stance.train_stance,
        stance.EVAL_SOURCES,
        _evaluate_stance,
    ),
}


def train_task(
    name: str, data_dir: Path, out: Path, *, sources: Sequence[str] | None = None,
    epochs: float | None = None, batch_tokens: int = 2048, seed: int = 13, resume: bool = False,
    init: Path | None = None, lr: float | None = None, balance: bool = False,
    first_layer: int = 4, device: str = "cpu", log: Callable[[str], None] = print,
) -> Path:  # fmt: skip
    """Train a task's head on its default sources (or the given ones); returns the head folder."""
    training_device(device)
    task = TASKS[name]
    config = task.config(batch_tokens=batch_tokens, seed=seed)
    config.sources = list(sources or config.sources)
    config.epochs = epochs or config.epochs
    config.lr = lr or config.lr
    config.init = str(init or "")
    config.balance = balance
    config.first_layer = first_layer
    config.device = device
    examples = read_sources(config.sources, task.load, data_dir, config.seed)
    log(f"{len(examples)} training examples from {', '.join(config.sources)}")
    return task.train(config, examples, out, resume=resume)


def evaluate_task(
    name: str, head: Path, data_dir: Path, sources: Sequence[str] | None = None,
    backend: str = "onnx-fp32", log: Callable[[str], None] = print,
) -> dict[str, dict]:  # fmt: skip
    """Scores of a head on each held-out source (default: the task's evaluation sets)."""
    task = TASKS[name]
    report = {}
    for source in sources or task.eval_sources:
        examples = read_sources([source], task.load, data_dir, seed=0)
        report[source] = task.evaluate(head, examples, backend)
        log(f"{source}: {report[source]['summary']}")
    return report
