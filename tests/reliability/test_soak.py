"""A soak: 10,000 articles through two workers in one group, paced as a feed, with one broker
restart and one worker kill -9 in the middle. Nothing is lost, and neither worker's memory
keeps growing once it is warm. Long (`make test-long`); the figures go to
docs/RELIABILITY.md."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.kafka.broker import LocalBroker
from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.reliability.conftest import kill
from tests.reliability.harness import PacedProducer, account, articles, save

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.timeout(3600)]
ARTICLES = int(os.environ.get("SOAK_ARTICLES", "10000"))
RATE = float(os.environ.get("SOAK_RATE", "16"))  # two e5 workers on 2 cores: about 20/s
TAGGER = os.environ.get("SOAK_TAGGER", "e5")
WARM_S = 120.0  # memory is judged after this: models loaded, arenas and caches grown
MAX_GROWTH = 0.15  # a warm worker's RSS may rise this much by its end


class RssSampler(threading.Thread):
    """Each worker's resident memory every few seconds, by process id."""

    def __init__(self, every_s: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every_s = every_s
        self.workers: list[WorkerProcess] = []
        self.samples: dict[int, list[tuple[int, int]]] = {}  # pid → (seconds, MB)
        self.started = time.monotonic()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            at = round(time.monotonic() - self.started)
            for worker in list(self.workers):
                pid = worker.pid()
                if pid is not None and (mb := _rss_mb(pid)) is not None:
                    self.samples.setdefault(pid, []).append((at, mb))

    def growth(self) -> dict[int, tuple[int, int, float]]:
        """pid → (MB when warm, MB at its last sample, relative growth) for each worker that
        ran past WARM_S after its first sample."""
        out = {}
        for pid, series in self.samples.items():
            warm = [mb for t, mb in series if t - series[0][0] >= WARM_S]
            if len(warm) >= 2:
                out[pid] = (warm[0], warm[-1], round(warm[-1] / warm[0] - 1, 3))
        return out


def _rss_mb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return next(int(ln.split()[1]) // 1024 for ln in status.splitlines() if ln.startswith("VmRSS:"))


def test_ten_thousand_articles_two_workers_a_broker_restart_and_a_kill(
    kafka: Settings, scenario_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    sampler = RssSampler()
    sampler.start()

    def worker() -> WorkerProcess:
        started = start_worker(tagger=TAGGER, torch_threads=1)
        sampler.workers.append(started)
        return started

    workers = [worker(), worker()]
    records = articles("soak", ARTICLES)
    producer = PacedProducer(scenario_settings, records, rate=RATE)
    producer.start()
    feed_s = ARTICLES / RATE
    time.sleep(feed_s / 3)
    broker = LocalBroker(kafka)
    broker.stop()
    time.sleep(10)
    broker.start()
    broker_back_s = round(time.monotonic() - sampler.started, 1)
    time.sleep(feed_s / 3)
    killed_s = round(time.monotonic() - sampler.started, 1)
    kill(workers[1])
    sampler.workers.remove(workers[1])
    workers[1] = worker()
    producer.join(timeout=feed_s + 300)
    assert producer.errors == [] and producer.sent == ARTICLES

    outcome = account(scenario_settings, (k for k, _ in records), timeout_s=180)
    sampler.done.set()
    growth = sampler.growth()
    save(
        "soak",
        outcome,
        tagger=TAGGER,
        rate=RATE,
        broker_back_at_s=broker_back_s,
        worker_killed_at_s=killed_s,
        rss_mb={pid: s[:: max(1, len(s) // 40)] for pid, s in sampler.samples.items()},
        rss_growth_after_warm=growth,
    )
    logs = ", ".join(str(w.log_file) for w in workers)
    assert outcome.lost == [], f"{len(outcome.lost)} lost; see {logs}"
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
    assert growth, "no worker ran long enough to judge its memory"
    assert all(g <= MAX_GROWTH for _, _, g in growth.values()), growth
    assert all(w.ready() for w in workers), f"see {logs}"
