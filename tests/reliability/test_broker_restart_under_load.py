"""Broker faults while batches are being tagged and delivered, right after a worker restart
(which may read skipped offsets again): the backlog drains, nothing is lost, and the output
resumes soon after the broker is back."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest

from pipeline.kafka.broker import LocalBroker
from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.conftest import SESSION_TIMEOUT_S, kill
from tests.reliability.harness import PacedProducer, account, articles, first_output_after, save

pytestmark = [pytest.mark.integration, pytest.mark.faults]
ARTICLES = 600
# (how the broker goes, seconds down, whether the worker is killed with kill -9 meanwhile)
FAULTS = {
    "stop 2 s": (signal.SIGTERM, 2.0, False),
    "stop 10 s": (signal.SIGTERM, 10.0, False),
    "stop 60 s": (signal.SIGTERM, 60.0, False),
    "kill -9, 10 s": (signal.SIGKILL, 10.0, False),
    "stop 10 s, worker kill -9 meanwhile": (signal.SIGTERM, 10.0, True),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_broker_fault_while_a_restarted_worker_drains_a_backlog(
    kafka: Settings,
    scenario_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    sig, down_s, kill_worker = FAULTS[fault]
    monkeypatch.setenv("FAKE_TAGGER_DELAY_S", "0.5")  # a batch takes as long as a real model's
    records = articles("load", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=1000)
    producer.start()
    producer.join(timeout=120)
    assert producer.errors == [] and producer.sent == ARTICLES
    worker = start_worker()
    time.sleep(4)  # some batches done, some in flight
    kill(worker)
    worker = start_worker()  # reads from the last commit; may re-read skipped offsets
    broker = LocalBroker(kafka)
    broker.stop(sig=sig)
    time.sleep(down_s)
    if kill_worker:
        kill(worker)
    broker.start()
    back_at = time.time()
    if kill_worker:
        worker = start_worker()
    outcome = account(scenario_settings, (k for k, _ in records), timeout_s=90)
    resumed_s = first_output_after(outcome.stamps, back_at)
    save(f"broker {fault} under load", outcome, output_resumed_s=resumed_s)
    assert outcome.lost == [], f"{len(outcome.lost)} lost; see {worker.log_file}"
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
    assert resumed_s is not None and resumed_s <= 60 + (SESSION_TIMEOUT_S if kill_worker else 0)
