"""The broker stopped and started while batches are being tagged and delivered, right after a
worker restart that reads skipped offsets again: the backlog drains, nothing is lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from pipeline.kafka.broker import LocalBroker
from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.conftest import kill
from tests.reliability.harness import PacedProducer, account, articles, save

pytestmark = pytest.mark.integration
ARTICLES = 600


@pytest.mark.parametrize("down_s", [2.0, 10.0])
def test_broker_restart_while_a_restarted_worker_drains_a_backlog(
    kafka: Settings,
    scenario_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch,
    down_s: float,
) -> None:
    monkeypatch.setenv("FAKE_TAGGER_DELAY_S", "0.5")  # a batch takes as long as a real model's
    records = articles(f"load{down_s:.0f}", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=1000)
    producer.start()
    producer.join(timeout=120)
    assert producer.errors == [] and producer.sent == ARTICLES
    worker = start_worker()
    time.sleep(4)  # some batches done, some in flight
    kill(worker)
    worker = start_worker()  # reads from the last commit; may re-read skipped offsets
    broker = LocalBroker(kafka)
    broker.stop()
    time.sleep(down_s)
    broker.start()
    outcome = account(scenario_settings, (k for k, _ in records), timeout_s=90)
    save(f"broker restart under load ({down_s:.0f} s)", outcome, broker_down_s=down_s)
    assert outcome.lost == [], f"{len(outcome.lost)} lost; see {worker.log_file}"
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
