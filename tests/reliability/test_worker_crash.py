"""kill -9 of the worker at random moments while articles stream in: nothing is lost.

Duplicates are recorded, not asserted: at_least_once replays what was not yet committed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.conftest import kill
from tests.reliability.harness import PacedProducer, account, articles, save

pytestmark = pytest.mark.integration
ARTICLES = 2000
KILLS = 3
SEED = 20261125


def test_kill_9_three_times_loses_nothing(
    scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    rng = random.Random(SEED)
    worker = start_worker()
    records = articles("crash", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=80)
    producer.start()
    started = time.monotonic()
    kills_at = []
    for _ in range(KILLS):
        time.sleep(rng.uniform(1.0, 6.0))
        kills_at.append(round(time.monotonic() - started, 1))
        kill(worker)
        worker = start_worker()
    producer.join(timeout=120)
    assert producer.errors == [] and producer.sent == ARTICLES

    outcome = account(scenario_settings, (k for k, _ in records))
    save("worker crash", outcome, kills_at_s=kills_at, seed=SEED)
    assert outcome.lost == []
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
