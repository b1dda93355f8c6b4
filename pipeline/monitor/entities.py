"""Top entities of the last 15 minutes with their stance mix, from a Faust windowed table.

The table counts articles per (label, stance, canonical) in tumbling windows of STEP_S: one
changelog record per entity event (hopping windows would write one per window covering it).
The dashboard sums the windows that started within the last WINDOW_S.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.contracts import stance_labels

WINDOW_S = 15 * 60
STEP_S = 60
STANCES = (*stance_labels(), "unjudged")


def mention_key(entity_event: dict[str, Any]) -> str:
    """The table key of one entity event (an article mentioning an entity)."""
    stance = (entity_event.get("stance") or {}).get("label", "unjudged")
    return f"{entity_event['label']}\t{stance}\t{entity_event['canonical']}"


def recent(windows: Iterable[tuple[Any, int]], now: float) -> Iterator[tuple[str, int]]:
    """(key, articles) of the windows that started within WINDOW_S of now, from the table's
    raw items: ((key, (window start, window end)), articles)."""
    for (key, (start, _)), articles in windows:
        if start > now - WINDOW_S:
            yield key, articles


def top_entities(counts: Iterable[tuple[str, int]], per_label: int = 10) -> dict[str, list]:
    """(key, articles) pairs → the most mentioned entities of each label, each with how many
    articles took each stance toward it."""
    by_entity: dict[tuple[str, str], Counter[str]] = {}
    for key, articles in counts:
        if not articles:
            continue
        label, stance, canonical = key.split("\t", 2)
        by_entity.setdefault((label, canonical), Counter())[stance] += articles
    ranked = sorted(by_entity.items(), key=lambda item: (-item[1].total(), item[0][1]))
    top: dict[str, list] = {}
    for (label, canonical), stances in ranked:
        entities = top.setdefault(label, [])
        if len(entities) < per_label:
            entities.append(
                {
                    "canonical": canonical,
                    "articles": stances.total(),
                    "stance": {s: stances[s] for s in STANCES},
                }
            )
    return top
