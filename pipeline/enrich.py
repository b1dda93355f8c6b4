"""enrich(articles) → enriched records: the one function behind the agent, `tag` and benchmarks.

No Kafka and no tensors: it detects languages, calls the configured Tagger and shapes records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from pipeline.contracts import SCHEMA_VERSION, utc_now
from pipeline.nlp import langid, load_tagger
from pipeline.nlp.identity import Resolver, by_fullness, label_of, load_resolver
from pipeline.nlp.types import Document, Entity, Span, Stance, Tagger, Tagging
from pipeline.settings import Settings

log = logging.getLogger(__name__)
UNDETERMINED = "und"  # ISO 639 code for a language that could not be identified
# Enriched once before serving: model runtimes pay their first-call costs (seconds with ONNX
# Runtime) and each language its dictionaries' loading here instead of on the first real batch.
WARM_UP = (
    {
        "id": "warm-up-uk",
        "title": "Зеленський зустрівся з Токаєвим в Астані",
        "body": "Президенти України та Казахстану обговорили прямі переговори з Росією.",
        "targets": ["переговори"],
    },
    {"id": "warm-up-ru", "body": "Путин провёл переговоры с Токаевым в Москве."},
    {"id": "warm-up-en", "body": "Tokayev said Kazakhstan would host the talks in Astana."},
)


class Enricher:
    """Turns validated article dicts into enriched records with one Tagger."""

    def __init__(
        self,
        tagger: Tagger,
        languages: Sequence[str],
        max_entities: int = 1000,
        resolver: Resolver | None = None,
    ) -> None:
        self.tagger = tagger
        self.languages = tuple(languages)
        self.max_entities = max_entities
        self.resolver = resolver or load_resolver()
        self.models = [*tagger.models, langid.INFO]

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        """The configured tagger and language list, warmed up (models and detector loaded,
        one article enriched)."""
        tagger = load_tagger(
            settings.tagger,
            ner_model=settings.ner_model,
            stance_model=settings.stance_model,
            topics=settings.stance_topics,
            threads=settings.torch_threads,
            base_dir=settings.model_cache,
            backend=settings.e5_backend,
            aliases=settings.aliases,
        )
        enricher = cls(
            tagger, settings.languages, settings.max_entities, load_resolver(settings.aliases)
        )
        enricher.enrich(WARM_UP)
        return enricher

    def enrich(self, articles: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Enrich a batch in one tagger call; raises if anything in it fails."""
        started = time.perf_counter()
        languages = [self._language(a) for a in articles]
        langid_ms = (time.perf_counter() - started) * 1000 / max(len(articles), 1)
        docs = [_document(a, lang[0]) for a, lang in zip(articles, languages, strict=True)]
        taggings = self.tagger.tag(docs)
        return [
            self._record(article, language, tagging, langid_ms)
            for article, language, tagging in zip(articles, languages, taggings, strict=True)
        ]

    def enrich_each(self, articles: Sequence[dict[str, Any]]) -> list[dict[str, Any] | Exception]:
        """Like enrich, but a failure is isolated by bisecting the batch: only the article that
        fails gets its exception, the rest are enriched."""
        if not articles:
            return []
        try:
            return list(self.enrich(articles))
        except Exception as exc:
            if len(articles) == 1:
                log.warning("tagging failed for article %r: %r", articles[0].get("id"), exc)
                return [exc]
        middle = len(articles) // 2
        return self.enrich_each(articles[:middle]) + self.enrich_each(articles[middle:])

    def _language(self, article: dict[str, Any]) -> tuple[str, str, float | None]:
        if article.get("language"):
            return article["language"], "given", None
        sample = " ".join(filter(None, (article.get("title"), article["body"])))
        found = langid.detect(sample, self.languages)
        return (found[0], "detected", found[1]) if found else (UNDETERMINED, "detected", 0.0)

    def _record(
        self,
        article: dict[str, Any],
        language: tuple[str, str, float | None],
        tagging: Tagging,
        langid_ms: float,
    ) -> dict[str, Any]:
        code, source, confidence = language
        record = {**article, "language": code, "language_source": source}
        if confidence is not None:
            record["language_confidence"] = confidence
        warnings = []
        entities = tagging.entities
        if any(not e.entity_id for e in entities):  # a tagger of your own may leave ids out
            entities = self.resolver.identify(entities, code)
        if len(entities) > self.max_entities:
            # A list of names, not prose: bound the record (and the entity events made from it).
            warnings.append(
                f"entities: {len(entities)} mentions found, the first {self.max_entities} kept "
                "(PIPELINE_MAX_ENTITIES)"
            )
            entities = entities[: self.max_entities]
        record["entities"] = [
            {
                **_span(e.span),
                "text": e.text,
                "label": e.label,
                "score": e.score,
                "canonical": e.canonical,
                "entity_id": e.entity_id,
            }
            for e in entities
        ]
        record["distinct_entities"] = distinct_entities(entities)
        record["stance"] = [_stance(s) for s in tagging.stance]
        record["models"] = [
            {"task": m.task, "name": m.name, "version": m.version} for m in self.models
        ]
        record["timings_ms"] = {
            "langid": round(langid_ms, 3),
            **{k: round(v, 3) for k, v in tagging.timings_ms.items()},
        }
        record["schema_version"] = SCHEMA_VERSION
        record["enriched_at"] = utc_now()
        if warnings:
            record["warnings"] = warnings
        return record


def distinct_entities(entities: Sequence[Entity]) -> list[dict[str, Any]]:
    """Each entity of an article once, most mentioned first: its id, type (the id's), the
    fullest name the article gives it, every form written and how many mentions."""
    grouped: dict[str, list[Entity]] = {}
    for e in entities:
        grouped.setdefault(e.entity_id, []).append(e)
    return [
        {
            "entity_id": entity_id,
            "label": label_of(entity_id),
            "name": by_fullness(e.canonical for e in mentions)[0],
            "forms": sorted({e.text for e in mentions}),
            "mentions": len(mentions),
        }
        for entity_id, mentions in sorted(grouped.items(), key=lambda item: -len(item[1]))
    ]


def _span(span: Span) -> dict[str, Any]:
    return {"field": span.field, "start": span.start, "end": span.end}


def _stance(stance: Stance) -> dict[str, Any]:
    out: dict[str, Any] = {"target": stance.target, "target_type": stance.target_type}
    if stance.span is not None:
        out["start"], out["end"] = stance.span.start, stance.span.end
    if stance.entity_id is not None:
        out["entity_id"] = stance.entity_id
    out.update(label=stance.label, score=stance.score, evidence=[_span(s) for s in stance.evidence])
    return out


def _document(article: dict[str, Any], language: str) -> Document:
    targets = tuple(
        Span("body", t["start"], t["end"]) if isinstance(t, dict) else t
        for t in article.get("targets", ())
    )
    return Document(article.get("title") or "", article["body"], language, targets)
