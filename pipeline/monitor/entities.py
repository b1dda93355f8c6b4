"""Top entities of the last 15 minutes with their stance mix, from a Faust windowed table.

The table counts articles per (label, stance, canonical) in hopping windows of WINDOW_S that
start every STEP_S; the dashboard reads the oldest window still open, i.e. the last 14–15
minutes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

WINDOW_S = 15 * 60
STEP_S = 60
STANCES = ("favor", "against", "neutral", "unjudged")


def mention_key(entity_event: dict[str, Any]) -> str:
    """The table key of one entity event (an article mentioning an entity)."""
    stance = (entity_event.get("stance") or {}).get("label", "unjudged")
    return f"{entity_event['label']}\t{stance}\t{entity_event['canonical']}"


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
