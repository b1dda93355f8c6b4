"""The recipe of the worker that hung, with the real e5 tagger: one worker (then two in one
group, sharing the input's partitions) drains a backlog of 300 copies of the seed article; when
about 40 are enriched the broker stops for 10 s. Nothing may be lost or stall: every article is
enriched and the output resumes once the broker is back."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable

import orjson
import pytest

from pipeline.kafka.broker import LocalBroker
from pipeline.local import WorkerProcess
from pipeline.settings import SEED_DIR, Settings
from tests.reliability.harness import PacedProducer, account, first_output_after, save

pytestmark = [pytest.mark.integration, pytest.mark.faults]
SEED = SEED_DIR / "000_25d5417d1e5c359d.jsonl"
COPIES = 300
STOP_AFTER = 40  # enriched articles before the broker goes away
DOWN_S = 10.0


def seed_copies(count: int) -> list[tuple[bytes, bytes]]:
    article = orjson.loads(SEED.read_text(encoding="utf-8").splitlines()[0])
    ids = [f"seed-copy-{i:04d}" for i in range(count)]
    return [(i.encode(), orjson.dumps(article | {"id": i})) for i in ids]


def enriched(worker: WorkerProcess) -> int:
    with urllib.request.urlopen(f"{worker.web_url}/health", timeout=5) as response:
        return int(json.load(response)["enriched"])


@pytest.mark.parametrize(
    "count",
    [
        pytest.param(1, id="one worker"),
        # Two model processes on two cores: about 9 minutes here, so not in `make test`;
        # `make test-long` runs it.
        pytest.param(2, id="two workers", marks=[pytest.mark.long, pytest.mark.timeout(1200)]),
    ],
)
def test_the_real_tagger_drains_a_backlog_across_a_broker_restart(
    kafka: Settings,
    scenario_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    count: int,
) -> None:
    records = seed_copies(COPIES)
    producer = PacedProducer(scenario_settings, records, rate=1000)
    producer.start()
    producer.join(timeout=120)
    assert producer.errors == [] and producer.sent == COPIES
    # Two workers share the machine's cores: one model thread each.
    workers = [start_worker(tagger="e5", torch_threads=3 - count) for _ in range(count)]
    logs = ", ".join(str(w.log_file) for w in workers)
    deadline = time.monotonic() + 300
    while sum(map(enriched, workers)) < STOP_AFTER:  # batches are being tagged and delivered
        assert time.monotonic() < deadline, f"too slow to start; see {logs}"
        time.sleep(0.5)
    broker = LocalBroker(kafka)
    broker.stop()
    time.sleep(DOWN_S)
    broker.start()
    back_at = time.time()
    outcome = account(scenario_settings, (k for k, _ in records), timeout_s=180)
    resumed_s = first_output_after(outcome.stamps, back_at)
    scenario = f"real tagger, {count} worker(s), broker stop 10 s under load"
    save(scenario, outcome, output_resumed_s=resumed_s)
    assert outcome.lost == [], f"{len(outcome.lost)} lost; see {logs}"
    assert outcome.dead_lettered == 0, outcome.dlq_reasons
    assert resumed_s is not None and resumed_s <= 60, resumed_s
    assert all(w.ready() for w in workers), f"see {logs}"
