"""The real local Kafka broker and real worker processes, isolated per test module.

Each module gets its own topics, consumer group, web port and data folder, so modules never see
each other's records and leftovers from earlier runs do not matter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.local import WorkerProcess
from pipeline.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port


@pytest.fixture(scope="module")
def pipeline_settings(
    kafka: Settings, tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Fresh topics and group for this module; the hf tagger on the tiny random models."""
    uid = f"it-{uuid.uuid4().hex[:8]}"
    return kafka.isolated(
        uid,
        web_port=free_port(),
        data_dir=tmp_path_factory.mktemp(uid),
        tagger="hf",
        ner_model=str(tiny_models["ner"]),
        stance_model=str(tiny_models["nli"]),
        stance_topics=("прямі переговори між Україною та Росією",),
        batch_wait=0.2,
        torch_threads=1,
    )


@pytest.fixture(scope="module")
def worker(pipeline_settings: Settings) -> Iterator[WorkerProcess]:
    with WorkerProcess(pipeline_settings).running(ready_timeout_s=240) as process:
        yield process


def run_cli(
    settings: Settings, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess:
    """`pipeline ARGS` in a child process with these settings, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env={**os.environ, **settings.to_env()},
        input=stdin,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        check=False,
    )
