"""Two workers share 4 partitions; one is killed with kill -9; the other takes its partitions
over (after the group's session timeout) and nothing is lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.conftest import kill
from tests.reliability.harness import PacedProducer, account, articles, save

pytestmark = pytest.mark.integration
ARTICLES = 1000


def input_partitions(worker: WorkerProcess, topic: str) -> set[str]:
    readiness = worker.readiness() or {}
    return {tp for tp in readiness.get("assigned_partitions", []) if tp.rsplit("/", 1)[0] == topic}


def test_survivor_takes_over_a_killed_workers_partitions(
    scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    topic = scenario_settings.topic_articles
    first = start_worker()
    second = start_worker()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the group settles on a split of the partitions
        shares = [input_partitions(w, topic) for w in (first, second)]
        if all(shares) and len(shares[0] | shares[1]) == scenario_settings.partitions:
            break
        time.sleep(0.5)
    assert all(shares), f"both workers should own input partitions: {shares}"

    records = articles("rebalance", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=50)
    producer.start()
    time.sleep(5)
    kill(second)
    killed_at = time.monotonic()
    taken_over_s = None
    while time.monotonic() - killed_at < 90 and taken_over_s is None:
        if len(input_partitions(first, topic)) == scenario_settings.partitions and first.ready():
            taken_over_s = round(time.monotonic() - killed_at, 1)
        time.sleep(0.5)
    producer.join(timeout=120)
    assert producer.errors == [] and producer.sent == ARTICLES

    outcome = account(scenario_settings, (k for k, _ in records))
    save("rebalance (kill -9 one of two workers)", outcome, taken_over_after_s=taken_over_s)
    assert taken_over_s is not None, "the survivor never owned all input partitions"
    assert outcome.lost == []
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
