"""Training and evaluation of the e5 NER head (`pipeline train ner`, `pipeline eval ner`).

Budget-minded for CPUs: the base (embeddings included) is frozen and so are its lower layers;
sentences are bucketed by length with dynamic padding; checkpoints make a run resumable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from pipeline.nlp.e5.head_config import HeadConfig
from pipeline.nlp.e5.ner import WINDOW_TOKENS, E5EntityRecognizer, core_offsets
from pipeline.nlp.e5.tokens import E5Tokenizer, load_serving_tokenizer
from pipeline.nlp.spans import bio_tags
from pipeline.train.loop import IGNORE, Feature, TrainConfig, train_head
from pipeline.train.ner_data import NerExample

# Held out from training: each corpus's test set and one SlavicNER topic.
EVAL_SOURCES = ("ner-uk:test", "factrueval:test", "conll2003:test", "slavicner:test")


@dataclass
class NerTrainConfig(TrainConfig):
    """Which data and labels; optimisation settings come from TrainConfig."""

    sources: list[str] = field(
        default_factory=lambda: [
            "ner-uk:train",
            "factrueval:dev",
            "slavicner:train",
            "conll2003:train",
            "panx:train-uk:8000",
            "panx:train-ru:8000",
            "panx:train-en:4000",
        ]
    )
    labels: list[str] = field(default_factory=lambda: ["PER", "ORG", "LOC"])


def token_labels(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]], tag_ids: dict
) -> list[int]:
    """BIO tag id per token: a token inside an entity is B- if it starts it, else I-."""
    labels, span_index, started = [], 0, False
    for start, end in offsets:
        while span_index < len(spans) and spans[span_index][1] <= start:
            span_index, started = span_index + 1, False
        if span_index < len(spans) and start < end and spans[span_index][0] < end:
            label = spans[span_index][2]
            labels.append(tag_ids[f"{'I' if started else 'B'}-{label}"])
            started = True
        else:
            labels.append(tag_ids["O"])
    return labels


def features(
    examples: Sequence[NerExample],
    tokenizer: E5Tokenizer,
    tags: Sequence[str],
    max_tokens: int = WINDOW_TOKENS,
) -> list[Feature]:
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    known = {tag.split("-", 1)[-1] for tag in tags}
    encoded = tokenizer(
        [e.text for e in examples],
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        truncation=True,
        max_length=max_tokens,
    )
    result = []
    for example, ids, offsets in zip(
        examples, encoded["input_ids"], encoded["offset_mapping"], strict=True
    ):
        spans = [s for s in example.spans if s[2] in known]
        labels = token_labels(core_offsets(example.text, offsets, 0), spans, tag_ids)
        result.append(
            Feature(
                [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id],
                [IGNORE, *labels, IGNORE],
            )
        )
    return result


def train_ner(
    config: NerTrainConfig, examples: Sequence[NerExample], out: Path, resume: bool = False
) -> Path:
    """Train the NER head; checkpoints go to out/checkpoint, the result to out/final."""
    tokenizer = load_serving_tokenizer()
    tags = bio_tags(config.labels)
    return train_head(
        HeadConfig("token", tags, first_adapted_layer=config.first_layer),
        features(examples, tokenizer, tags),
        config,
        out,
        pad_id=tokenizer.pad_token_id,
        resume=resume,
        run_info={"sources": config.sources, "sentences": len(examples)},
    )


# ---------------------------------------------------------------- evaluation


def span_scores(
    gold: Sequence[Sequence[tuple[int, int, str]]],
    predicted: Sequence[Sequence[tuple[int, int, str]]],
) -> dict[str, dict[str, float]]:
    """Exact-match entity-span precision, recall and F1 per label and micro-averaged."""
    tp, n_gold, n_pred = Counter(), Counter(), Counter()
    for g, p in zip(gold, predicted, strict=True):
        g_set, p_set = set(g), set(p)
        for span in g_set:
            n_gold[span[2]] += 1
        for span in p_set:
            n_pred[span[2]] += 1
            tp[span[2]] += span in g_set
    result = {}
    for label in [*sorted(n_gold | n_pred), "micro"]:
        t = sum(tp.values()) if label == "micro" else tp[label]
        g = sum(n_gold.values()) if label == "micro" else n_gold[label]
        p = sum(n_pred.values()) if label == "micro" else n_pred[label]
        precision, recall = (t / p if p else 0.0), (t / g if g else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {
            "p": round(precision, 4),
            "r": round(recall, 4),
            "f1": round(f1, 4),
            "n": g,
        }
    return result


def evaluate_ner(
    head_dir: Path,
    examples: Sequence[NerExample],
    labels: Sequence[str],
    backend: str = "torch",
    batch: int = 256,
) -> dict[str, dict[str, float]]:
    """Scores of the full inference path (sentences, windows, word snapping) on examples."""
    recognizer = E5EntityRecognizer(head_dir, backend=backend)
    predicted = []
    for i in tqdm(range(0, len(examples), batch), desc="eval", unit="batch", dynamic_ncols=True):
        texts = [e.text for e in examples[i : i + batch]]
        predicted += [
            [(s.start, s.end, s.label) for s in spans] for spans in recognizer.predict(texts)
        ]
    gold = [[s for s in e.spans if s[2] in labels] for e in examples]
    return span_scores(gold, predicted)
