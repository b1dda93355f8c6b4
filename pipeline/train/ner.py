"""Training and evaluation of the e5 NER head (`pipeline train ner`, `pipeline eval ner`).

Budget-minded for CPUs: the base (embeddings included) is frozen and so are its lower layers,
whose outputs are computed once per run; windows are bucketed by length with dynamic padding;
checkpoints make a run resumable. The model is trained on the windows serving reads: each
sentence of a text, cut at WINDOW_TOKENS.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from pipeline.build.head_config import HeadConfig
from pipeline.contracts import entity_labels
from pipeline.nlp.canonical import name_key
from pipeline.nlp.e5.ner import E5EntityRecognizer, windows
from pipeline.nlp.e5.tokens import E5Tokenizer, load_serving_tokenizer
from pipeline.nlp.spans import bio_tags, consistent_labels
from pipeline.nlp.text import QUOTES, trim
from pipeline.train.loop import IGNORE, Feature, TrainConfig, train_head
from pipeline.train.ner_data import HELD_OUT_TOPIC, TRAINING_TOPICS, NerExample

# The types of the goal figure: comparable with heads and papers that predict only these.
CORE_LABELS = ("PER", "ORG", "LOC")
# Held out from training: each corpus's test set and one SlavicNER topic.
EVAL_SOURCES = (
    f"slavicner:{HELD_OUT_TOPIC}",
    "ner-uk:test",
    "factrueval:test",
    "conll2003:test",
)


@dataclass
class NerTrainConfig(TrainConfig):
    """Which data and labels; optimisation settings come from TrainConfig."""

    sources: list[str] = field(
        default_factory=lambda: [
            *(f"slavicner:{t}:x2" for t in TRAINING_TOPICS),
            "ner-uk:train",
            "factrueval:dev",
            "conll2003:train:8000",
        ]
    )
    labels: list[str] = field(default_factory=lambda: list(entity_labels()))


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
    examples: Sequence[NerExample], tokenizer: E5Tokenizer, tags: Sequence[str]
) -> list[Feature]:
    """One feature per serving window of each example: BIO targets, no loss on masked spans,
    and the corpus's unannotated labels open at its O tokens."""
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    known = {tag.split("-", 1)[-1] for tag in tags}
    result = []
    for window in windows(tokenizer, [e.text for e in examples]):
        example = examples[window.text_index]
        spans = [s for s in example.spans if s[2] in known]
        # A bare "▁" (a word whose spaced form is not in the vocabulary) covers no character:
        # it gets no loss. Taught as O, it split names in two ("Nord ▁ Stream").
        labels = [
            IGNORE if start == end or example.is_masked(start, end) else label
            for label, (start, end) in zip(
                token_labels(window.offsets, spans, tag_ids), window.offsets, strict=True
            )
        ]
        open_tags = tuple(i for tag, i in tag_ids.items() if tag[2:] in example.unannotated)
        result.append(Feature(window.input_ids, [IGNORE, *labels, IGNORE], open_tags))
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
        run_info={"sources": config.sources, "examples": len(examples)},
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
    backend: str = "onnx-fp32",
    batch: int = 256,
) -> dict:
    """Scores of the full inference path (sentences, windows, word snapping, one label per name
    in a text) on examples: per label and micro, per language, and micro without the
    document-level label consistency (what it adds)."""
    recognizer = E5EntityRecognizer(head_dir, backend=backend)
    raw, consistent = [], []
    for i in tqdm(range(0, len(examples), batch), desc="eval", unit="batch", dynamic_ncols=True):
        chunk = examples[i : i + batch]
        for example, spans in zip(chunk, recognizer.predict([e.text for e in chunk]), strict=True):
            keys = [name_key(example.text[s.start : s.end], example.lang) for s in spans]
            labels_ = consistent_labels([s.label for s in spans], [s.score for s in spans], keys)
            for found, kept in ((raw, [s.label for s in spans]), (consistent, labels_)):
                found.append(
                    [
                        (s.start, s.end, label)
                        for s, label in zip(spans, kept, strict=True)
                        if _judged(example, s.start, s.end, label)
                    ]
                )
    gold = [[s for s in e.spans if s[2] in labels] for e in examples]

    def scores(lang: str | None) -> dict:
        """Per label and micro, and micro over PER/ORG/LOC (the goal's figure), of one
        language (None: all)."""
        rows = [i for i, e in enumerate(examples) if lang in (None, e.lang)]
        result = span_scores([gold[i] for i in rows], [consistent[i] for i in rows])
        core_gold, core_predicted = (
            [[s for s in spans[i] if s[2] in CORE_LABELS] for i in rows]
            for spans in (gold, consistent)
        )
        unquoted_gold, unquoted_predicted = (
            [
                [_unquoted(examples[i].text, s) for s in spans]
                for i, spans in zip(rows, core, strict=True)
            ]
            for core in (core_gold, core_predicted)
        )
        return {
            **result,
            "micro_per_org_loc": span_scores(core_gold, core_predicted)["micro"],
            "micro_per_org_loc_ignoring_quotes": span_scores(unquoted_gold, unquoted_predicted)[
                "micro"
            ],
        }

    return {
        **scores(None),
        "by_language": {lang: scores(lang) for lang in sorted({e.lang for e in examples})},
        "micro_without_consistency": span_scores(gold, raw)["micro"],
    }


def _unquoted(text: str, span: tuple[int, int, str]) -> tuple[int, int, str]:
    """The span less quotes that enclose it whole: SlavicNER's Russian documents write
    «Северный поток — 2» with its quotes in some names and without in others, a difference
    no reader of the text would count as a wrong name (a figure beside the exact one)."""
    start, end, label = span
    while end - start > 2 and (text[start], text[end - 1]) in QUOTES:
        start, end = trim(text, start + 1, end - 1)
    return start, end, label


def _judged(example: NerExample, start: int, end: int, label: str) -> bool:
    """Whether the corpus can judge a predicted span: not of a type it does not annotate, and
    not over a name it types otherwise (CoNLL's MISC "German" is PER by the guidelines)."""
    return label not in example.unannotated and not example.is_masked(start, end)
