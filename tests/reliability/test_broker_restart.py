"""The Kafka broker stopped and started mid-stream: the worker recovers by itself, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from pipeline.kafka.broker import LocalBroker
from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.harness import PacedProducer, account, articles, save

pytestmark = pytest.mark.integration
ARTICLES = 1000
DOWN_S = 5.0


def test_broker_restart_mid_stream(
    kafka: Settings, scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    worker = start_worker()
    pid = worker.pid()
    records = articles("restart", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=50)
    producer.start()
    time.sleep(6)
    broker = LocalBroker(kafka)
    broker.stop()
    time.sleep(DOWN_S)
    broker.start()
    producer.join(timeout=240)
    assert producer.errors == [] and producer.sent == ARTICLES

    outcome = account(scenario_settings, (k for k, _ in records))
    save("broker restart", outcome, broker_down_s=DOWN_S, worker_pid_unchanged=worker.pid() == pid)
    assert outcome.lost == []
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
    assert worker.pid() == pid, f"the worker exited; see {worker.log_file}"
    assert worker.healthy()
