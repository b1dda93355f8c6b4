"""Pretty output shows names and reasons verbatim, whatever brackets or colons they contain."""

from __future__ import annotations

from rich.console import Console

from pipeline.render import print_pretty, problem


def test_enriched_panel_shows_each_entity_once_and_prints_text_verbatim() -> None:
    console = Console(record=True, width=120)
    record = {
        "id": "a", "title": "T", "language": "uk", "language_source": "detected",
        "entities": [],  # the mentions; the panel shows distinct_entities
        "distinct_entities": [
            {"entity_id": "ORG:acme", "label": "ORG", "name": "[red]Acme[/red]",
             "forms": ["[red]Acme[/red]"], "mentions": 1},
            {"entity_id": "PER:kasim-zhomart-tokaev", "label": "PER",
             "name": "Касим-Жомарт Токаєв", "forms": ["Касим-Жомарт Токаєв", "Токаєва"],
             "mentions": 2},
        ],
        "stance": [{"target": "[b]talks", "target_type": "topic", "label": "favor", "score": 0.9}],
    }  # fmt: skip
    print_pretty(console, record)
    text = console.export_text()
    assert "[red]Acme[/red]" in text and "[b]talks" in text
    assert "Касим-Жомарт Токаєв ×2 (Токаєва)" in text


def test_problem_lines_keep_colons_and_brackets() -> None:
    console = Console(record=True, markup=False, emoji=False, highlight=False)
    problem(console, "invalid", "panx:train:5000 [/x]: reason")
    assert console.export_text().strip() == "invalid panx:train:5000 [/x]: reason"
