"""Training and evaluation of the e5 stance head (`pipeline train stance`, `pipeline eval stance`).

Input: the target, then the sentence(s) that mention it; output: favor / against / neutral.
Trained on Russian (RuSentNE) and English (NewsMTSC) news; Ukrainian comes by transfer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from pipeline.nlp.e5.head_config import HeadConfig
from pipeline.nlp.e5.stance import E5Stance, encode_pairs
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.train.loop import Feature, TrainConfig, train_head
from pipeline.train.stance_data import STANCE_LABELS, StanceExample

# Held out from training: a tenth of RuSentNE train (its validation set is withheld) and
# NewsMTSC's devtest_mt.
EVAL_SOURCES = ("rusentne:heldout", "newsmtsc:devtest_mt")


@dataclass
class StanceTrainConfig(TrainConfig):
    sources: list[str] = field(default_factory=lambda: ["rusentne:train", "newsmtsc:train"])
    epochs: float = 2.0
    lr: float = 3e-4


def train_stance(
    config: StanceTrainConfig, examples: Sequence[StanceExample], out: Path, resume: bool = False
) -> Path:
    tokenizer = load_serving_tokenizer()
    labels = list(STANCE_LABELS)
    ids = encode_pairs(tokenizer, [(e.target, e.text) for e in examples])
    items = [Feature(i, labels.index(e.label)) for i, e in zip(ids, examples, strict=True)]
    counts = Counter(e.label for e in examples)
    return train_head(
        HeadConfig("sequence", labels, first_adapted_layer=config.first_layer),
        items,
        config,
        out,
        pad_id=tokenizer.pad_token_id,
        resume=resume,
        run_info={"sources": config.sources, "examples": len(examples), "labels": counts},
    )


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


def evaluate_stance(
    head_dir: Path, examples: Sequence[StanceExample], backend: str = "torch", batch: int = 256
) -> dict:
    classifier = E5Stance(head_dir, backend=backend)
    predicted: list[str] = []
    for i in tqdm(range(0, len(examples), batch), desc="eval", unit="batch", dynamic_ncols=True):
        chunk = examples[i : i + batch]
        predicted += [s.label for s in classifier.predict([(e.target, e.text) for e in chunk])]
    return f1_scores([e.label for e in examples], predicted)
