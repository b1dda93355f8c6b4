"""`pipeline tag`: the agent's enrichment, offline — inputs in, JSON Lines out, in order."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
from rich.console import Console

from pipeline.contracts import InputRecord, InvalidArticle, check_article, read_inputs, read_lines
from pipeline.enrich import Enricher
from pipeline.render import messages_console, print_pretty, problem
from pipeline.settings import Settings


def _records(inputs: Sequence[str]) -> Iterator[InputRecord]:
    for item in inputs:
        if item == "-":
            yield from read_lines(sys.stdin, "<stdin>")
        else:
            yield from read_inputs([Path(item)])


def tag_inputs(inputs: Sequence[str], settings: Settings, pretty: bool = False) -> int:
    """Enrich each valid input in batches of settings.batch_size; exit status 1 if any failed."""
    err = messages_console()
    enricher = Enricher.from_settings(settings)
    out = Console()
    failures = 0
    batch: list[tuple[str, dict]] = []

    def flush() -> None:
        nonlocal failures
        results = enricher.enrich_each([article for _, article in batch])
        for (origin, _), result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                failures += 1
                problem(err, "failed", f"{origin}: tagger: {type(result).__name__}: {result}")
            elif pretty:
                print_pretty(out, result)
            else:
                sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
        sys.stdout.flush()
        batch.clear()

    for record in _records(inputs):
        try:
            if record.error is not None:
                failures += 1
                problem(err, "invalid", f"{record.origin}: {record.error}")
                continue
            batch.append((record.origin, check_article(record.article, settings.max_body_bytes)))
        except InvalidArticle as exc:
            failures += 1
            problem(err, "invalid", f"{record.origin}: {exc.reason}")
        if len(batch) >= settings.batch_size:
            flush()
    flush()
    return 1 if failures else 0
