"""Human-readable views of records for the terminal (`--format pretty`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

STANCE_STYLE = {"favor": "green", "against": "red", "neutral": "yellow"}


def messages_console() -> Console:
    """stderr, printing text as given: no markup, emoji codes or highlighting in file names,
    reasons or source names (`panx:train:5000` must not become an emoji)."""
    return Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)


def problem(console: Console, kind: str, message: str) -> None:
    """One problem line: the kind in red, then the message verbatim."""
    console.print(Text.assemble((kind, "red"), " ", message))


def enriched_panel(record: dict[str, Any]) -> Panel:
    """Title, language, each entity once grouped by label (with the other forms it is written
    in), stances."""
    lines = Text()
    lines.append(f"{record.get('title') or '(no title)'}\n", style="bold")
    lines.append(f"id {record.get('id')}  ·  language {record.get('language')} ")
    lines.append(f"({record.get('language_source')})", style="dim")
    if record.get("published_at"):
        lines.append(f"  ·  {record['published_at']}")
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # One row per entity id, most mentioned first.
    for entity in record.get("distinct_entities", []):
        grouped[entity["label"]].append(entity)
    body: list[Any] = [lines]
    if grouped:
        table = Table(box=None, show_header=False, padding=(0, 1))
        for label in sorted(grouped):
            names = Text()
            for i, entity in enumerate(grouped[label]):
                names.append(", " if i else "")
                names.append(entity["name"])
                if entity["mentions"] > 1:
                    names.append(f" ×{entity['mentions']}")
                others = [f for f in entity["forms"] if f != entity["name"]]
                if others:
                    names.append(f" ({', '.join(others)})", style="dim")
            table.add_row(Text(label, style="bold cyan"), names)
        body.append(table)
    else:
        body.append(Text("no entities", style="dim"))
    if record.get("stance"):
        table = Table("target", "type", "stance", "score", box=None, padding=(0, 1))
        for stance in record["stance"]:
            style = STANCE_STYLE.get(stance["label"], "")
            table.add_row(
                Text(stance["target"]),
                stance["target_type"],
                Text(stance["label"], style=style),
                f"{stance['score']:.2f}",
            )
        body.append(table)
    return Panel(Group(*body), expand=False)


def dead_letter_panel(record: dict[str, Any]) -> Panel:
    source = record.get("source", {})
    text = Text()
    text.append(f"{record.get('stage')}: ", style="bold red")
    text.append(f"{record.get('reason')}\n")
    text.append(
        f"{source.get('topic')}[{source.get('partition')}]@{source.get('offset')}  ·  "
        f"{record.get('value_size')} bytes  ·  {record.get('failed_at')}",
        style="dim",
    )
    return Panel(text, expand=False, title=str(record.get("article_id") or ""))


def print_pretty(console: Console, record: Any) -> None:
    if isinstance(record, dict) and "stage" in record and "value_base64" in record:
        console.print(dead_letter_panel(record))
    elif isinstance(record, dict) and "entities" in record:
        console.print(enriched_panel(record))
    else:
        console.print_json(data=record)
