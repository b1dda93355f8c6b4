"""Toxiproxy between workers and the local broker: slow, cut and dead connections on demand.

The broker's proxied listener advertises the proxy's port (pipeline/kafka/broker.py), so a
client bootstrapped at the proxy reaches the broker only through it. Toxiproxy is built from the
Go module proxy with `go install` on first use and kept in the data folder beside Kafka.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from pipeline.kafka.broker import PROXIED_PORT, PROXY_PORT, LocalBroker
from pipeline.settings import Settings
from tests.conftest import free_port

TOXIPROXY = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0"


def install(bin_dir: Path) -> Path:
    """The toxiproxy server binary, built once with `go install`."""
    binary = bin_dir / "toxiproxy-server-2.12.0"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise RuntimeError(
            f"the fault proxy is built with Go: install Go, or `go install {TOXIPROXY}`"
        )
    build = bin_dir / "go-build"
    env = os.environ | {"GOBIN": str(build)}
    subprocess.run(
        [go, "install", TOXIPROXY], env=env, check=True, capture_output=True, timeout=600
    )
    (build / "server").rename(binary)
    return binary


@dataclass
class FaultProxy:
    """One Toxiproxy server with one proxy, `kafka`, in front of the broker's proxied listener."""

    api: str
    settings: Settings  # the broker's settings, with `broker` pointing at the proxy

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else orjson.dumps(body)
        request = urllib.request.Request(f"{self.api}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
        return orjson.loads(payload) if payload else None

    @contextmanager
    def toxic(self, kind: str, **attributes: int) -> Iterator[None]:
        """A toxic on both directions of every connection while the block runs."""
        names = []
        for stream in ("upstream", "downstream"):
            name = f"{kind}-{stream}"
            toxic = {"name": name, "type": kind, "stream": stream, "attributes": attributes}
            self._call("POST", "/proxies/kafka/toxics", toxic)
            names.append(name)
        try:
            yield
        finally:
            for name in names:
                self._call("DELETE", f"/proxies/kafka/toxics/{name}")

    @contextmanager
    def cut(self) -> Iterator[None]:
        """Every connection closed and new ones refused while the block runs."""
        self._call("POST", "/proxies/kafka", {"enabled": False})
        try:
            yield
        finally:
            self._call("POST", "/proxies/kafka", {"enabled": True})


@contextmanager
def fault_proxy(kafka: Settings) -> Iterator[FaultProxy]:
    """A started Toxiproxy in front of the local broker; stopped when the block ends."""
    host, port = LocalBroker(kafka).address
    binary = install(kafka.data_dir / "bin")
    api_port = free_port()
    log = (kafka.data_dir / "toxiproxy.log").open("ab")
    server = subprocess.Popen(
        [str(binary), "-host", "127.0.0.1", "-port", str(api_port)], stdout=log, stderr=log
    )
    proxy = FaultProxy(
        f"http://127.0.0.1:{api_port}", replace(kafka, broker=f"{host}:{port + PROXY_PORT}")
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                proxy._call("GET", "/version")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline, (
                    "toxiproxy did not start"
                )
                time.sleep(0.2)
        proxy._call("POST", "/proxies", {
            "name": "kafka",
            "listen": f"{host}:{port + PROXY_PORT}",
            "upstream": f"{host}:{port + PROXIED_PORT}",
        })  # fmt: skip
        yield proxy
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
