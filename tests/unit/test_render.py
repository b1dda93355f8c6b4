"""Pretty output shows names and reasons verbatim, whatever brackets or colons they contain."""

from __future__ import annotations

from rich.console import Console

from pipeline.render import print_pretty, problem


def test_enriched_panel_groups_entities_and_prints_text_verbatim() -> None:
    console = Console(record=True, width=120)
    record = {
        "id": "a", "title": "T", "language": "uk", "language_source": "detected",
        "entities": [
            {"label": "ORG", "canonical": "[red]Acme[/red]"},
            {"label": "PER", "canonical": "Токаєв"},
            {"label": "PER", "canonical": "Токаєв"},
        ],
        "stance": [{"target": "[b]talks", "target_type": "topic", "label": "favor", "score": 0.9}],
    }  # fmt: skip
    print_pretty(console, record)
    text = console.export_text()
    assert "[red]Acme[/red]" in text and "Токаєв ×2" in text and "[b]talks" in text


def test_problem_lines_keep_colons_and_brackets() -> None:
    console = Console(record=True, markup=False, emoji=False, highlight=False)
    problem(console, "invalid", "panx:train:5000 [/x]: reason")
    assert console.export_text().strip() == "invalid panx:train:5000 [/x]: reason"
