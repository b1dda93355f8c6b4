"""A worker running in the background on this machine: for the demo, `pipeline down` and tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from pipeline.settings import Settings


class WorkerProcess:
    """A `pipeline worker` subprocess with exactly these settings: start, wait for /ready,
    stop (SIGTERM, then SIGKILL)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid_file = settings.data_dir / "worker.pid"
        self.log_file = settings.data_dir / "worker.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def web_url(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    def start(self) -> int:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "worker"],
                env={**os.environ, **self.settings.to_env()},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        self._process = process
        return process.pid

    def readiness(self) -> dict[str, Any] | None:
        """The /ready document (also when it says 503); None when nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.web_url}/ready", timeout=2) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                return json.load(error)
            except ValueError:  # not the view's answer: the worker is still starting
                return None
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def ready(self) -> bool:
        return (self.readiness() or {}).get("ready") is True

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ready():
                return
            if self.pid() is None:
                raise RuntimeError(f"the worker exited; see {self.log_file}")
            time.sleep(0.5)
        raise TimeoutError(
            f"the worker was not ready within {timeout_s:.0f} s; see {self.log_file}"
        )

    @contextmanager
    def running(self, ready_timeout_s: float = 180.0) -> Iterator[WorkerProcess]:
        """Started and ready inside the block, stopped after it whatever happens."""
        self.start()
        try:
            self.wait_ready(ready_timeout_s)
            yield self
        finally:
            self.stop()

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
            state = stat_fields(pid)[0]
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return None if state == "Z" else pid

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit status once the worker this object started ends by itself (None if it
        still runs after timeout_s)."""
        if self._process is None:
            raise RuntimeError("this worker was not started here")
        try:
            return self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def metric(self, name: str) -> float:
        """The sum of one metric's samples on the worker's /metrics page (e.g.
        `pipeline_tagging_seconds_sum`: the model's time so far)."""
        with urllib.request.urlopen(f"{self.web_url}/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        )

    def peak_rss_mb(self) -> float:
        """The running worker's peak resident memory (VmHWM)."""
        status = Path(f"/proc/{self.pid()}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        return int(kib) / 1024

    def stop(self, timeout_s: float = 60.0, sig: int = signal.SIGTERM) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.pid() is not None:
            if self._process is not None:
                self._process.poll()  # reap our own child so it is not seen as a zombie
            time.sleep(0.2)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def stat_fields(pid: int) -> list[str]:
    """A process's /proc/PID/stat after its command name (which may hold spaces): the state
    first, then the fields that follow it."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process on this machine has used so far."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
