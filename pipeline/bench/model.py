"""Model benchmark: the naive Hugging Face pipeline (fp32, one article at a time) against our
batched NER, on the same texts, the same weights and the same threads, in one run."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import pipeline

from pipeline.contracts import read_inputs
from pipeline.nlp import langid
from pipeline.nlp.canonical import canonical
from pipeline.nlp.e5.model import export_hf, load_tokenizer
from pipeline.nlp.e5.ner import E5EntityRecognizer
from pipeline.nlp.identity import load_resolver
from pipeline.nlp.types import Entity, EntitySpan, Span
from pipeline.settings import PROJECT_ROOT


def bench_texts(data_dir: Path | None, count: int) -> list[str]:
    """News bodies: SlavicNER's raw articles (uk, ru) when the data is there, else the seeds."""
    texts: list[str] = []
    if data_dir is not None:
        raw = sorted((data_dir / "slavicner").glob("raw/*/*/*.txt"))
        texts = [p.read_text(encoding="utf-8") for p in raw[:: max(1, len(raw) // count)]]
    if not texts:
        texts = [r.article["body"] for r in read_inputs([PROJECT_ROOT / "seeds"]) if r.article]
    return [texts[i % len(texts)] for i in range(count)]


def _timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def bench_ner(
    head_dir: Path, texts: list[str], base_dir: Path | None = None, backend: str = "onnx-int8"
) -> dict[str, float]:
    """Seconds, tokens/s and articles/s of both ways of tagging `texts`, and the speed-up:
    the naive way runs the fp32 weights in transformers' pipeline, ours runs `backend`."""
    tokenizer = load_tokenizer(base_dir)
    tokens = sum(len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"])
    ours = E5EntityRecognizer(head_dir, base_dir, backend=backend)
    with tempfile.TemporaryDirectory() as folder:
        naive = pipeline(
            "token-classification",
            model=str(export_hf(head_dir, Path(folder), base_dir)),
            tokenizer=tokenizer,
            aggregation_strategy="first",
            stride=128,
            device=-1,
        )
        ours.predict(texts[:2])  # warm both up alike
        naive(texts[0])
        naive_s = _timed(lambda: [naive(text) for text in texts])
    predictions: list = []
    ours_s = _timed(lambda: predictions.extend(ours.predict(texts)))
    identity_s = _time_identity(texts, predictions)
    return {
        "articles": len(texts),
        "tokens": tokens,
        "naive_s": round(naive_s, 3),
        "ours_s": round(ours_s, 3),
        "naive_tokens_per_s": round(tokens / naive_s, 1),
        "ours_tokens_per_s": round(tokens / ours_s, 1),
        "naive_articles_per_s": round(len(texts) / naive_s, 3),
        "ours_articles_per_s": round(len(texts) / ours_s, 3),
        "speedup": round(naive_s / ours_s, 2),
        "backend": backend,
        "identity_s": round(identity_s, 3),
        "identity_share": round(identity_s / ours_s, 4),
    }


def _time_identity(texts: list[str], predictions: list[list[EntitySpan]]) -> float:
    """Seconds the resolver takes to give ids to the entities found (as the tagger calls it,
    after NER and lemmas: what identity adds to tagging)."""
    languages = [(langid.detect(t, ("uk", "ru", "en")) or ("und", 0.0))[0] for t in texts]
    resolver = load_resolver()
    found = [
        [
            Entity(Span("body", s.start, s.end), t[s.start : s.end], s.label, s.score,
                   canonical(t[s.start : s.end], lang, s.label))
            for s in spans
        ]
        for t, spans, lang in zip(texts, predictions, languages, strict=True)
    ]  # fmt: skip
    return _timed(
        lambda: [resolver.identify(e, lang) for e, lang in zip(found, languages, strict=True)]
    )


def format_report(result: dict[str, float]) -> str:
    return "\n".join(
        [
            f"{result['articles']} articles, {result['tokens']} tokens, "
            f"{result['threads']} threads",
            f"naive HF pipeline, one at a time: {result['naive_tokens_per_s']:>8.0f} tokens/s  "
            f"{result['naive_articles_per_s']:.2f} articles/s",
            f"ours, batched, {result['backend']:<18}{result['ours_tokens_per_s']:>8.0f} tokens/s  "
            f"{result['ours_articles_per_s']:.2f} articles/s",
            f"ratio: {result['speedup']:.2f}x",
            f"entity identity on what ours found: {result['identity_s']:.3f} s, "
            f"{100 * result['identity_share']:.1f} % of ours",
        ]
    )
