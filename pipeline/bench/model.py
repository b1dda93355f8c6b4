"""Model benchmark: NER and stance the naive way (Hugging Face pipelines, fp32, one article at
a time) against ours (batched, ONNX Runtime), on the same texts, targets, weights and threads,
in one run."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import pipeline

from pipeline.contracts import read_inputs
from pipeline.nlp import langid
from pipeline.nlp.e5.ner import E5EntityRecognizer
from pipeline.nlp.e5.stance import E5Stance
from pipeline.nlp.identity import load_resolver
from pipeline.nlp.tagger import to_entities
from pipeline.nlp.targets import StanceQuery, judged, stance_queries
from pipeline.nlp.types import Document, Entity, EntitySpan, StanceInput
from pipeline.settings import SEED_DIR
from pipeline.train.model import SpanPooledForSequenceClassification, export_hf, load_tokenizer


def bench_texts(data_dir: Path | None, count: int) -> list[str]:
    """News bodies: SlavicNER's raw articles (uk, ru) when the data is there, else the seeds."""
    texts: list[str] = []
    if data_dir is not None:
        raw = sorted((data_dir / "slavicner").glob("raw/*/*/*.txt"))
        texts = [p.read_text(encoding="utf-8") for p in raw[:: max(1, len(raw) // count)]]
    if not texts:
        texts = [r.article["body"] for r in read_inputs([SEED_DIR]) if r.article]
    return [texts[i % len(texts)] for i in range(count)]


def _timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _hypothesis(target: str) -> str:
    """A zero-shot template naming the target; braces in a name are not template fields."""
    return "Stance toward " + target.replace("{", "{{").replace("}", "}}") + ": {}."


def bench_model(
    ner_head: Path,
    stance_head: Path,
    texts: list[str],
    base_dir: Path | None = None,
    backend: str = "onnx-int8",
) -> dict[str, Any]:
    """Seconds, tokens/s and the speed-up of both ways of doing the same work on `texts`: NER,
    then stance toward each judged entity. Ours: batched NER, entity ids, one batched stance
    pass over every target, on `backend`. Naive, as a user would write it with transformers:
    a token-classification pipeline, then a zero-shot-classification pipeline per target over
    the same evidence and the same three labels, fp32, one article at a time."""
    tokenizer = load_tokenizer(base_dir)
    tokens = sum(len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"])
    languages = [(langid.detect(t, ("uk", "ru", "en")) or ("und", 0.0))[0] for t in texts]
    ner = E5EntityRecognizer(ner_head, base_dir, backend=backend)
    stance = E5Stance(stance_head, base_dir, backend=backend)
    resolver = load_resolver()
    ner.predict(texts[:2])  # warm up
    stance.distributions([StanceInput("Kyiv", "Kyiv is a city.", ((0, 4),))])

    found: list[list[EntitySpan]] = []
    ner_s = _timed(lambda: found.extend(ner.predict(texts)))
    entities = [
        to_entities(Document("", text, lang), [("body", s) for s in spans])
        for text, spans, lang in zip(texts, found, languages, strict=True)
    ]
    identified: list[list[Entity]] = []
    identity_s = _timed(
        lambda: identified.extend(
            resolver.identify(e, lang) for e, lang in zip(entities, languages, strict=True)
        )
    )
    queries: list[list[StanceQuery]] = []

    def judge() -> None:
        for text, of_text, lang in zip(texts, identified, languages, strict=True):
            queries.append(stance_queries(Document("", text, lang), of_text, ()))
        flat = [q for qs in queries for q in qs]
        judged(stance.distributions([i for q in flat for i in q.inputs]), flat, stance.labels)

    stance_s = _timed(judge)
    ours_s = ner_s + identity_s + stance_s
    naive_s = _time_naive(ner_head, stance_head, texts, queries, base_dir)
    targets = sum(len(qs) for qs in queries)
    return {
        "articles": len(texts),
        "tokens": tokens,
        "targets": targets,
        "naive_tasks": ["ner", "stance"],
        "naive_s": round(naive_s, 3),
        "ours_s": round(ours_s, 3),
        "naive_tokens_per_s": round(tokens / naive_s, 1),
        "ours_tokens_per_s": round(tokens / ours_s, 1),
        "naive_articles_per_s": round(len(texts) / naive_s, 3),
        "ours_articles_per_s": round(len(texts) / ours_s, 3),
        "speedup": round(naive_s / ours_s, 2),
        "backend": backend,
        "ner_s": round(ner_s, 3),
        "identity_s": round(identity_s, 3),
        "stance_s": round(stance_s, 3),
        "identity_share": round(identity_s / ner_s, 4),
        "stance_vs_ner": round(stance_s / ner_s, 3),
    }


def _time_naive(
    ner_head: Path,
    stance_head: Path,
    texts: list[str],
    queries: list[list[StanceQuery]],
    base_dir: Path | None,
) -> float:
    """Seconds the naive loop takes over texts and the same stance queries."""
    tokenizer = load_tokenizer(base_dir)
    with tempfile.TemporaryDirectory() as folder:
        ner = pipeline(
            "token-classification",
            model=str(export_hf(ner_head, Path(folder) / "ner", base_dir)),
            tokenizer=tokenizer,
            aggregation_strategy="first",
            stride=128,
            device=-1,
        )
        judge = SpanPooledForSequenceClassification.from_pretrained(
            export_hf(stance_head, Path(folder) / "stance", base_dir)
        )
        # Our head learned NLI pairs as stance (entailment = favor), so zero-shot reads favor's
        # logit as "entailment"; the pipeline needs nothing else.
        labels = judge.config.label2id
        judge.config.label2id = {
            "entailment": labels["favor"], "contradiction": labels["against"],
            "neutral": labels["neutral"],
        }  # fmt: skip
        zero_shot = pipeline("zero-shot-classification", model=judge, tokenizer=tokenizer)
        choices = list(labels)

        def loop() -> None:
            for text, of_text in zip(texts, queries, strict=True):
                ner(text)
                for q in of_text:  # the same sentences ours reads, one call each
                    for i in q.inputs:
                        zero_shot(i.text, choices, hypothesis_template=_hypothesis(q.target))

        ner(texts[0])  # warm up alike
        zero_shot("Kyiv is a city.", choices, hypothesis_template=_hypothesis("Kyiv"))
        return _timed(loop)


def format_report(result: dict[str, float]) -> str:
    return "\n".join(
        [
            f"{result['articles']} articles, {result['tokens']} tokens, "
            f"{result['threads']} threads",
            "NER and stance toward the same targets:",
            f"  naive HF pipelines, fp32, one at a time {result['naive_tokens_per_s']:>8.0f} "
            f"tokens/s  {result['naive_articles_per_s']:.2f} articles/s",
            f"  ours, batched, {result['backend']:<25}{result['ours_tokens_per_s']:>8.0f} "
            f"tokens/s  {result['ours_articles_per_s']:.2f} articles/s",
            f"ratio: {result['speedup']:.2f}x",
            f"ours: NER {result['ner_s']:.2f} s, entity ids {result['identity_s']:.3f} s "
            f"({100 * result['identity_share']:.1f} % of NER), stance on {result['targets']} "
            f"targets {result['stance_s']:.2f} s ({result['stance_vs_ner']:.2f}x NER)",
        ]
    )
