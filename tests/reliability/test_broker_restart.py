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
    down_until, readiness_while_down = time.monotonic() + DOWN_S, []
    while time.monotonic() < down_until:
        readiness_while_down.append(worker.readiness() or {})
        time.sleep(0.5)
    broker.start()
    producer.join(timeout=240)
    assert producer.errors == [] and producer.sent == ARTICLES

    outcome = account(scenario_settings, (k for k, _ in records))
    save("broker restart", outcome, broker_down_s=DOWN_S, worker_pid_unchanged=worker.pid() == pid)
    assert outcome.lost == []
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
    assert worker.pid() == pid, f"the worker exited; see {worker.log_file}"
    # /ready said the broker was gone while it was, and is ready again
    assert any(r.get("broker_connected") is False for r in readiness_while_down)
    assert all(r.get("ready") is not True for r in readiness_while_down[-3:])
    worker.wait_ready(timeout_s=60)
