"""Top entities of the last 15 minutes, one row per entity id, with their stance mix overall,
per language and per minute, from a Faust windowed table.

The table counts articles per (entity id, language, stance) in tumbling windows of STEP_S: one
changelog record per entity event (hopping windows would write one per window covering it).
The dashboard sums the windows that started within the last WINDOW_S. A second table keeps
each id's name and the forms it was seen in, so a row reads as a name, not an id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pipeline.contracts import stance_labels
from pipeline.nlp.identity import label_of

WINDOW_S = 15 * 60
STEP_S = 60
STANCES = (*stance_labels(), "unjudged")
MAX_FORMS = 20  # forms kept per entity id for the dashboard


def mention_key(entity_event: dict[str, Any]) -> str:
    """The table key of one entity event (an article mentioning an entity)."""
    stance = (entity_event.get("stance") or {}).get("label", "unjudged")
    return f"{entity_event['entity_id']}\t{entity_event['language']}\t{stance}"


def with_names(known: dict[str, Any] | None, entity_event: dict[str, Any]) -> dict[str, Any] | None:
    """An id's name (the first seen) and forms after this event; None when nothing is new."""
    name = known["name"] if known else entity_event["name"]
    forms = list(known["forms"]) if known else []
    for form in (entity_event["name"], *entity_event["forms"]):
        if form not in forms and len(forms) < MAX_FORMS:
            forms.append(form)
    if known and forms == known["forms"]:
        return None
    return {"name": name, "forms": forms}


def recent(windows: Iterable[tuple[Any, int]], now: float) -> Iterator[tuple[str, float, int]]:
    """(key, window start, articles) of the windows that started within WINDOW_S of now, from
    the table's raw items: ((key, (window start, window end)), articles)."""
    for (key, (start, _)), articles in windows:
        if start > now - WINDOW_S and articles:
            yield key, start, articles


def top_entities(
    counts: Iterable[tuple[str, float, int]], names: Mapping[str, Any], per_label: int = 10
) -> dict[str, list]:
    """The most mentioned entities of each type: name, forms, articles, and how many articles
    took each stance toward it, overall and per language."""
    by_entity: dict[str, Counter[tuple[str, str]]] = {}
    for key, _, articles in counts:
        entity_id, language, stance = key.split("\t", 2)
        by_entity.setdefault(entity_id, Counter())[language, stance] += articles
    ranked = sorted(by_entity.items(), key=lambda item: (-item[1].total(), item[0]))
    top: dict[str, list] = {}
    for entity_id, counted in ranked:
        entities = top.setdefault(label_of(entity_id), [])
        if len(entities) >= per_label:
            continue
        known = names.get(entity_id) or {}
        languages: dict[str, dict[str, int]] = {}
        for (language, stance), n in counted.items():
            languages.setdefault(language, dict.fromkeys(STANCES, 0))[stance] += n
        entities.append(
            {
                "entity_id": entity_id,
                "name": known.get("name", entity_id),
                "forms": known.get("forms", []),
                "articles": counted.total(),
                "stance": {s: sum(v[s] for v in languages.values()) for s in STANCES},
                "languages": dict(
                    sorted(languages.items(), key=lambda item: -sum(item[1].values()))
                ),
            }
        )
    return top


def timeline(counts: Iterable[tuple[str, float, int]], entity_id: str) -> dict[str, Any]:
    """One entity's stance per minute and language: {minutes: [window starts], languages:
    {language: [{stance: articles} per minute]}}."""
    cells: dict[tuple[str, float], Counter[str]] = {}
    for key, start, articles in counts:
        found_id, language, stance = key.split("\t", 2)
        if found_id == entity_id:
            cells.setdefault((language, start), Counter())[stance] += articles
    minutes = sorted({start for _, start in cells})
    languages = sorted({language for language, _ in cells})
    return {
        "minutes": minutes,
        "languages": {
            lang: [{s: cells.get((lang, m), Counter())[s] for s in STANCES} for m in minutes]
            for lang in languages
        },
    }
