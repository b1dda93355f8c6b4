"""Malformed messages interleaved with valid articles, and articles that make the model raise:
each bad one is dead-lettered with its reason and original bytes, every valid one is enriched,
the worker never restarts, and no article body reaches the worker's log."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.fake_taggers import POISON
from tests.reliability.harness import PacedProducer, account, articles, save
from tests.reliability.malformed import malformed

pytestmark = pytest.mark.integration
MAX_BODY = 50_000  # so that "huge strings" stay quick to produce
LOG_MARKER = "Sekretno-Bodymarker"  # in every valid body; must never be logged


def test_poison_input_is_dead_lettered_and_the_worker_keeps_running(
    scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    settings = replace(scenario_settings, max_body_bytes=MAX_BODY)
    worker = start_worker(max_body_bytes=MAX_BODY)
    pid = worker.pid()
    bad = malformed(1000, MAX_BODY, seed=20261125)
    good = articles("ok", 1000, marker=LOG_MARKER)
    interleaved = [r for pair in zip(good, ((k, v) for _, k, v in bad), strict=True) for r in pair]
    producer = PacedProducer(settings, interleaved, rate=400)
    producer.run()
    assert producer.errors == [] and producer.sent == 2000

    outcome = account(settings, (k for k, _ in interleaved))
    save("poison input (1000 malformed + 1000 valid)", outcome)
    assert outcome.lost == []
    assert outcome.enriched == 1000 and outcome.dead_lettered == 1000
    kinds = {key: kind for kind, key, _ in bad}
    for key, value in ((k, v) for _, k, v in bad):
        letter = outcome.letters[key]
        assert base64.b64decode(letter["value_base64"]) == value, kinds[key]
        assert letter["stage"] in {"decode", "validate"} and letter["reason"], kinds[key]
    assert worker.pid() == pid and worker.ready(), f"the worker restarted; see {worker.log_file}"
    assert LOG_MARKER not in worker.log_file.read_text(errors="replace")


def test_an_article_that_breaks_the_model_is_isolated(
    scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    worker = start_worker(batch_size=32)
    pid = worker.pid()
    good = articles("fine", 300)
    poison = [
        (f"poison-{i}".encode(), orjson.dumps({"id": f"poison-{i}", "body": f"Text {POISON}."}))
        for i in range(3)
    ]
    records = list(itertools.chain(good[:100], poison[:1], good[100:200], poison[1:], good[200:]))
    PacedProducer(scenario_settings, records, rate=1000).run()

    outcome = account(scenario_settings, (k for k, _ in records))
    save("poison in the model (3 of 303 articles make the tagger raise)", outcome)
    assert outcome.lost == []
    assert {k for k, _ in poison} == set(outcome.letters)
    for letter in outcome.letters.values():
        assert letter["stage"] == "tag"
        assert letter["reason"] == "tagger failed: RuntimeError: model failure"
    assert outcome.enriched == len(good)
    assert worker.pid() == pid
