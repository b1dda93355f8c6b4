"""A single-node Apache Kafka broker in KRaft mode for local use, built from Maven Central jars.

`pipeline kafka start|stop|status`. State lives under <data_dir>/kafka: lib/ (jars),
data/ (logs), broker.log, broker.pid. Starting twice is harmless.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from pipeline.settings import Settings

POM = Path(__file__).with_name("pom.xml")
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # broker default: articles up to 8 MB reach the worker
HEAP = "-Xmx768m"
LOG4J = """\
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
"""


# A second listener with SASL/PLAIN, on port + 2, to try the client security settings locally:
# PIPELINE_BROKER=127.0.0.1:9094 PIPELINE_SECURITY_PROTOCOL=SASL_PLAINTEXT
# PIPELINE_SASL_USERNAME=pipeline PIPELINE_SASL_PASSWORD=pipeline-local. Loopback only.
SASL_USER, SASL_PASSWORD = "pipeline", "pipeline-local"
# A third listener, on port + 3, that advertises port + 4: a fault proxy listening on port + 4
# and forwarding to port + 3 (the reliability tests' Toxiproxy) then carries every connection
# of a client bootstrapped at port + 4, the ones metadata sends it to included.
PROXIED_PORT, PROXY_PORT = 3, 4


class BrokerError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalBroker:
    """Paths and commands of the local broker for one Settings."""

    settings: Settings

    @property
    def home(self) -> Path:
        return self.settings.data_dir / "kafka"

    @property
    def lib(self) -> Path:
        return self.home / "lib"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.settings.broker.split(",")[0].rpartition(":")
        return host or "127.0.0.1", int(port)

    def fetch_jars(self) -> None:
        """Copy the broker and its dependencies from Maven Central (once per pom version)."""
        stamp = self.lib / ".pom-sha256"
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        self.lib.mkdir(parents=True, exist_ok=True)
        for old in self.lib.glob("*.jar"):
            old.unlink()
        command = [
            "mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={self.lib}", "-DincludeScope=runtime",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerError(
                f"maven could not fetch the Kafka jars:\n{result.stdout}{result.stderr}"
            )
        stamp.write_text(digest)

    def _write_config(self) -> Path:
        host, port = self.address
        config = self.home / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{host}:{port + 1}",
                    f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{port + 1},"
                    f"SASL_PLAINTEXT://{host}:{port + 2},PROXIED://{host}:{port + PROXIED_PORT}",
                    f"advertised.listeners=PLAINTEXT://{host}:{port},"
                    f"SASL_PLAINTEXT://{host}:{port + 2},PROXIED://{host}:{port + PROXY_PORT}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
                    "SASL_PLAINTEXT:SASL_PLAINTEXT,PROXIED:PLAINTEXT",
                    "listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN",
                    "listener.name.sasl_plaintext.plain.sasl.jaas.config="
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f'user_{SASL_USER}="{SASL_PASSWORD}";',
                    f"log.dirs={self.home / 'data'}",
                    f"num.partitions={self.settings.partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=4",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=4",
                    "group.initial.rebalance.delay.ms=0",
                    f"message.max.bytes={MAX_MESSAGE_BYTES}",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        (self.home / "log4j.properties").write_text(LOG4J)
        return config

    def _java(self, main: str, *args: str) -> list[str]:
        log4j = f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}"
        return ["java", HEAP, log4j, "-cp", f"{self.lib}/*", main, *args]

    def _format_storage(self, config: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        command = self._java(
            "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)
        )
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BrokerError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    def pid(self) -> int | None:
        """The broker's process id, if it is running."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ValueError, IndexError):
            return None
        # A reused pid or a zombie left by our own Popen is not a running broker.
        return pid if b"kafka.Kafka" in cmdline and state != "Z" else None

    def answers(self, timeout_s: float = 5.0) -> bool:
        """True when a Kafka client gets cluster metadata from the address."""
        host, port = self.address
        try:  # a refused port answers at once; kafka-python would retry for 30 s
            socket.create_connection((host, port), timeout=timeout_s).close()
        except OSError:
            return False
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=f"{host}:{port}",
                request_timeout_ms=int(timeout_s * 1000),
            )
        except (KafkaError, OSError):
            return False
        try:
            admin.describe_cluster()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    def start(self, wait_s: float = 90.0) -> int:
        """Start the broker unless it runs; return once it answers. Returns the pid."""
        running = self.pid()
        if running is not None and self.answers():
            return running
        if running is None and self.answers(timeout_s=2):
            host, port = self.address
            raise BrokerError(f"another Kafka broker already listens on {host}:{port}")
        self.home.mkdir(parents=True, exist_ok=True)
        self.fetch_jars()
        config = self._write_config()
        self._format_storage(config)
        process = None
        if running is None:
            with self.log_file.open("ab") as log:
                process = subprocess.Popen(
                    self._java("kafka.Kafka", str(config)),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.pid_file.write_text(str(process.pid))
            running = process.pid
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise BrokerError(
                    f"Kafka exited during start-up; see {self.log_file}:\n{self._log_tail()}"
                )
            if self.answers(timeout_s=2):
                return running
            time.sleep(0.5)
        raise BrokerError(f"Kafka did not answer within {wait_s:.0f} s; see {self.log_file}")

    def stop(self, wait_s: float = 60.0, sig: int = signal.SIGTERM) -> bool:
        """Stop the broker (`sig`, then SIGKILL after wait_s). False if it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.2)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
