"""Slow, cut and dead connections between a worker and the broker (Toxiproxy in between) while
the worker drains a backlog with batches in flight: nothing is lost, nothing dead-lettered, the
output resumes within 60 s of the fault's end, and the worker is ready again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.fault_proxy import FaultProxy, fault_proxy
from tests.reliability.harness import PacedProducer, account, articles, first_output_after, save

pytestmark = [pytest.mark.integration, pytest.mark.faults]
ARTICLES = 400
# name → (the fault, seconds it lasts)
FAULTS: dict[str, tuple[Callable[[FaultProxy], AbstractContextManager[None]], float]] = {
    "latency 1 s ± 0.5 s": (lambda p: p.toxic("latency", latency=1000, jitter=500), 20.0),
    "bandwidth 16 KB/s": (lambda p: p.toxic("bandwidth", rate=16), 20.0),
    "connections reset": (lambda p: p.toxic("reset_peer", timeout=0), 10.0),
    "black hole (data dropped, connections kept open)": (
        lambda p: p.toxic("timeout", timeout=0),
        20.0,
    ),
    "connections cut and refused": (lambda p: p.cut(), 10.0),
}


@pytest.fixture(scope="module")
def proxy(kafka: Settings) -> Iterator[FaultProxy]:
    with fault_proxy(kafka) as started:
        yield started


@pytest.mark.parametrize("fault", FAULTS)
def test_a_connection_fault_while_a_worker_drains_a_backlog(
    scenario_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    make_fault, lasts_s = FAULTS[fault]
    monkeypatch.setenv("FAKE_TAGGER_DELAY_S", "0.5")  # a batch takes as long as a real model's
    records = articles("proxy", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=1000)
    producer.start()
    producer.join(timeout=120)
    assert producer.errors == [] and producer.sent == ARTICLES
    worker = start_worker(broker=proxy.settings.broker)
    time.sleep(4)  # some batches done, some in flight
    with make_fault(proxy):
        time.sleep(lasts_s)
    ended_at = time.time()
    outcome = account(scenario_settings, (k for k, _ in records), timeout_s=90)
    resumed_s = first_output_after(outcome.stamps, ended_at)
    save(f"fault proxy: {fault}", outcome, lasts_s=lasts_s, output_resumed_s=resumed_s)
    assert outcome.lost == [], f"{len(outcome.lost)} lost; see {worker.log_file}"
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
    if outcome.stamps[-1] / 1000 > ended_at:  # the backlog outlasted the fault
        assert resumed_s is not None and resumed_s <= 60, resumed_s
    assert worker.ready(), f"not ready at the end; see {worker.log_file}"
