"""Oversize input on the real model: a 5 MB article is refused with its reason, an article of
100,000 entity-like words is enriched with its entity mentions capped, and the worker's memory
stays bounded."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import orjson
import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.harness import PacedProducer, account, save

pytestmark = pytest.mark.integration
NAMES = ["Kyiv", "NATO", "Путін", "Київ", "Astana", "Токаєв", "Ankara", "Macron"]


def test_oversize_articles(
    scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    worker = start_worker(tagger="e5", max_entities=1000)
    normal = {"id": "normal", "body": "Токаєв запропонував Астану для переговорів. " * 20}
    PacedProducer(scenario_settings, [(b"normal", orjson.dumps(normal))], rate=1).run()
    assert account(scenario_settings, [b"normal"]).enriched == 1
    baseline_mb = worker.peak_rss_mb()

    names = " ".join(itertools.islice(itertools.cycle(NAMES), 100_000))
    huge = {"id": "huge", "body": "Переговори. " * 227_273}  # 5,000,006 bytes of UTF-8
    listing = {"id": "names", "title": "Список", "body": names}
    records = [(b"huge", orjson.dumps(huge)), (b"names", orjson.dumps(listing))]
    PacedProducer(scenario_settings, records, rate=10).run()

    outcome = account(scenario_settings, [b"huge", b"names"], timeout_s=300)
    peak_mb = worker.peak_rss_mb()
    save("oversize", outcome, rss_baseline_mb=round(baseline_mb), rss_peak_mb=round(peak_mb))
    assert outcome.lost == []
    assert outcome.letters[b"huge"]["reason"] == (
        "body is 5000006 bytes, over the limit of 1000000"
    )
    record = orjson.loads(outcome.records[b"names"])
    assert len(record["entities"]) == 1000
    assert record["warnings"][0].startswith("entities: ")
    assert peak_mb - baseline_mb < 512, "a long article should cost the worker little memory"
