"""Real worker processes on the real local broker, each scenario with its own topics and group.

Workers use the fake tagger (tests/fake_taggers.py) so that thousands of articles go through in
seconds; what is tested here is the pipeline around the model. Faults are real: SIGKILL, a
broker stopped and started, a second worker leaving the group.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

SESSION_TIMEOUT_S = 10.0  # how long the group waits for a killed worker's heartbeat


@pytest.fixture
def scenario_settings(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    uid = f"rel-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    monkeypatch.setenv("FAKE_TAGGER_DELAY_S", "0.02")
    return kafka.isolated(
        uid,
        data_dir=tmp_path_factory.mktemp(uid),
        tagger="tests.fake_taggers:from_env",
        session_timeout=SESSION_TIMEOUT_S,
        batch_wait=0.2,
    )


@pytest.fixture
def start_worker(scenario_settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    """start_worker(**overrides): a healthy worker of the scenario's group, stopped at the end."""
    started: list[WorkerProcess] = []

    def start(**overrides: object) -> WorkerProcess:
        name = f"w{len(started)}"
        settings = replace(
            scenario_settings,
            web_port=free_port(),
            data_dir=scenario_settings.data_dir / name,
            **overrides,
        )
        worker = WorkerProcess(settings)
        worker.start()
        started.append(worker)
        worker.wait_ready(timeout_s=120)
        return worker

    yield start
    for worker in started:
        worker.stop(timeout_s=20, sig=signal.SIGTERM)


def kill(worker: WorkerProcess) -> None:
    """kill -9: no shutdown, no final commit."""
    pid = worker.pid()
    assert pid is not None, f"the worker is not running; see {worker.log_file}"
    os.kill(pid, signal.SIGKILL)
    worker.stop(timeout_s=10)  # reaps it
