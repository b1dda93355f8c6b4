"""Security settings on the real broker: every client speaks SASL when told to (the local
broker's SASL/PLAIN listener), a wrong password is a clear error, the web view is loopback-only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from pipeline.kafka.broker import SASL_PASSWORD, SASL_USER
from pipeline.local import WorkerProcess
from pipeline.settings import SEED_DIR, Settings
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration
SEED_JSONL = SEED_DIR / "000_25d5417d1e5c359d.jsonl"


def sasl(settings: Settings, password: str = SASL_PASSWORD) -> Settings:
    host, _, port = settings.broker.rpartition(":")
    return replace(
        settings,
        broker=f"{host}:{int(port) + 2}",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username=SASL_USER,
        sasl_password=password,
    )


def test_worker_produce_and_tail_over_sasl(pipeline_settings: Settings, tmp_path: Path) -> None:
    settings = sasl(replace(pipeline_settings, tagger="null", data_dir=tmp_path))
    with WorkerProcess(settings).running(ready_timeout_s=120) as worker:
        produced = run_cli(settings, "produce", str(SEED_JSONL))
        assert produced.returncode == 0, produced.stderr.decode()
        tail = run_cli(settings, "tail", "--from-beginning", "--max", "1", "--timeout", "60",
                       "--format", "jsonl")  # fmt: skip
        assert tail.returncode == 0, tail.stderr.decode()
        assert orjson.loads(tail.stdout)["id"] == "000_25d5417d1e5c359d"
    assert SASL_PASSWORD not in worker.log_file.read_text(errors="replace")


def test_a_wrong_password_is_a_clear_error(pipeline_settings: Settings) -> None:
    produced = run_cli(sasl(pipeline_settings, password="wrong"), "produce", str(SEED_JSONL))
    assert produced.returncode != 0
    assert "Authentication failed" in produced.stderr.decode()


def test_the_web_view_listens_on_loopback_only(worker: WorkerProcess) -> None:
    port = f"{worker.settings.web_port:04X}"
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1].endswith(f":{port}") and line.split()[3] == "0A"
    ]
    assert listening == [f"0100007F:{port}"]
