"""Training and evaluation of the e5 stance head (`pipeline train stance`, `pipeline eval stance`).

Input: the sentence(s) that mention a target, read once for all targets in them, each target
from its own tokens (a topic appended as a second segment); output: favor / against / neutral.
Trained on Russian (RuSentNE) and English (NewsMTSC) news; Ukrainian comes by transfer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline.build.head_config import HeadConfig
from pipeline.nlp.e5.stance import E5Stance, encode_inputs
from pipeline.nlp.e5.tokens import E5Tokenizer, load_serving_tokenizer
from pipeline.train.calibration import calibration_report, fit_temperature, log_probabilities
from pipeline.train.loop import Feature, TrainConfig, read_sources, train_head
from pipeline.train.stance_data import STANCE_LABELS, StanceExample, load_stance

# Held out from training: a tenth of RuSentNE train (its validation set is withheld),
# NewsMTSC's devtest_mt, and our own Ukrainian check set (never trained on).
EVAL_SOURCES = ("rusentne:heldout", "newsmtsc:devtest_mt", "uk-check:test")
CHECK_ONLY = "uk-check"
# The temperature is fitted on the news sets (the check set is too small to fit anything).
CALIBRATION_SOURCES = ("rusentne:heldout", "newsmtsc:devtest_mt")


@dataclass
class StanceTrainConfig(TrainConfig):
    sources: list[str] = field(default_factory=lambda: ["rusentne:train", "newsmtsc:train"])
    epochs: float = 2.0
    lr: float = 3e-4


def train_stance(
    config: StanceTrainConfig, examples: Sequence[StanceExample], out: Path, resume: bool = False
) -> Path:
    if any(e.source == CHECK_ONLY for e in examples):
        raise ValueError(f"{CHECK_ONLY} is an evaluation set: it is never trained on")
    tokenizer = load_serving_tokenizer()
    items = stance_features(tokenizer, examples)
    counts = Counter(e.label for e in examples)
    return train_head(
        HeadConfig("span", list(STANCE_LABELS), first_adapted_layer=config.first_layer),
        items,
        config,
        out,
        pad_id=tokenizer.pad_token_id,
        resume=resume,
        run_info={
            "sources": config.sources,
            "examples": len(examples),
            "inputs": len(items),
            "labels": counts,
        },
    )


def stance_features(tokenizer: E5Tokenizer, examples: Sequence[StanceExample]) -> list[Feature]:
    """One feature per evidence text, a pool per target judged on it; each target aims at its
    label one-hot, or at a teacher's distribution where it has one."""
    labels = list(STANCE_LABELS)
    encoded, where = encode_inputs(tokenizer, [e.as_input() for e in examples])
    targets: list[list[int]] = [[] for _ in encoded]
    aims: list[list[tuple[float, ...]]] = [[] for _ in encoded]
    for (row, _), example in zip(where, examples, strict=True):
        targets[row].append(labels.index(example.label))
        aims[row].append(example.soft or tuple(float(x == example.label) for x in labels))
    return [
        Feature(e.input_ids, t, pools=tuple(e.pools), soft=tuple(a))
        for e, t, a in zip(encoded, targets, aims, strict=True)
    ]


def f1_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Per-label F1, macro-F1 over all labels, and RuSentNE's F1 over favor/against only."""
    result = {}
    for label in STANCE_LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        n_pred, n_gold = predicted.count(label), gold.count(label)
        precision, recall = (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)
        total = precision + recall
        result[label] = round(2 * precision * recall / total, 4) if total else 0.0
    result["macro_f1"] = round(sum(result[label] for label in STANCE_LABELS) / 3, 4)
    result["pn_f1"] = round((result["favor"] + result["against"]) / 2, 4)
    result["accuracy"] = round(
        sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold), 4
    )
    result["n"] = len(gold)
    return result


def stance_distributions(
    head_dir: Path, examples: Sequence[StanceExample], backend: str = "onnx-fp32", batch: int = 256
) -> np.ndarray:
    """(examples, labels) probabilities of the head as it is (its temperature applied)."""
    classifier = E5Stance(head_dir, backend=backend)
    chunks = [
        classifier.distributions([e.as_input() for e in examples[i : i + batch]])
        for i in tqdm(range(0, len(examples), batch), desc="eval", unit="batch", dynamic_ncols=True)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, len(STANCE_LABELS)))


def gold_indices(examples: Sequence[StanceExample]) -> np.ndarray:
    return np.array([STANCE_LABELS.index(e.label) for e in examples])


def evaluate_stance(
    head_dir: Path, examples: Sequence[StanceExample], backend: str = "onnx-fp32"
) -> dict:
    """F1 scores and calibration (see calibration_report) of a head on examples."""
    probs = stance_distributions(head_dir, examples, backend)
    predicted = [STANCE_LABELS[i] for i in probs.argmax(-1)]
    scores = f1_scores([e.label for e in examples], predicted)
    return {**scores, **calibration_report(probs, gold_indices(examples))}


def calibrate_head(head_dir: Path, data_dir: Path, backend: str = "onnx-fp32") -> float:
    """Fit the head's temperature on CALIBRATION_SOURCES and save it in its head.json."""
    examples = read_sources(CALIBRATION_SOURCES, load_stance, data_dir, seed=0)
    config = HeadConfig.read(head_dir)
    probs = stance_distributions(head_dir, examples, backend)
    fitted = fit_temperature(log_probabilities(probs), gold_indices(examples))
    config.temperature = round(config.temperature * fitted, 4)
    config.write(head_dir)
    return config.temperature
