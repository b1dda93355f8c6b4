"""The Faust app: its settings, topics, tables and the orjson codec. The agents that run on it
are in `pipeline.worker.agents`: run them with `pipeline worker` or
`faust -A pipeline.worker.agents worker -l info`.
"""

from __future__ import annotations

from typing import Any

import faust
import orjson
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.serializers import codecs

from pipeline.kafka.admin import OUTPUT_MAX_BYTES, ensure_topics
from pipeline.kafka.security import faust_credentials
from pipeline.monitor import entities
from pipeline.nlp.identity import AliasTableError, load_resolver
from pipeline.settings import Settings


class OrjsonCodec(codecs.Codec):
    """orjson for every record the pipeline writes (and Faust's own tables)."""

    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def _loads(self, s: bytes) -> Any:
        return orjson.loads(s)


codecs.register("orjson", OrjsonCodec())

settings = Settings()
if settings.processing_guarantee != "at_least_once":
    raise SystemExit(
        f"PIPELINE_PROCESSING_GUARANTEE={settings.processing_guarantee} is not supported: the "
        "worker is at_least_once only (Kafka transactions under Faust left duplicates and stalled "
        "records, docs/RELIABILITY.md); outputs are keyed by article id, so a consumer drops "
        "duplicates by key"
    )
if settings.batch_size < 1 or not settings.batch_wait > 0:
    # Faust's take_events reads a wait of 0 as "no timeout": a batch short of full would wait
    # for more articles forever.
    raise SystemExit(
        f"cannot start: PIPELINE_BATCH_SIZE={settings.batch_size} must be at least 1 and "
        f"PIPELINE_BATCH_WAIT={settings.batch_wait} above 0 seconds"
    )
try:  # every worker must identify entities with the same table: no table, no worker
    load_resolver(settings.aliases)
except AliasTableError as exc:
    raise SystemExit(f"cannot start: {exc}") from None

# Faust's own folder, under ours rather than in whatever folder the worker started in; Faust
# creates only the last level.
FAUST_DIR = settings.data_dir / "faust"
FAUST_DIR.mkdir(parents=True, exist_ok=True)

app = faust.App(
    settings.app_id,
    broker=[f"kafka://{server}" for server in settings.broker.split(",")],
    store="memory://",
    datadir=str(FAUST_DIR / "{conf.name}"),
    value_serializer="orjson",
    key_serializer="raw",
    broker_credentials=faust_credentials(settings),
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication,
    producer_max_request_size=OUTPUT_MAX_BYTES + 1024 * 1024,
    consumer_max_fetch_size=OUTPUT_MAX_BYTES,
    web_bind=settings.web_host,
    web_host=settings.web_host,
    web_port=settings.web_port,
    web_stats_enabled=True,
    web_metrics_enabled=True,
    web_tables_enabled=True,
    web_router_enabled=True,
    table_cleanup_interval=60.0,
)
# /metrics: Faust's own metrics (faust_*) and the pipeline's (pipeline_*), Prometheus format.
setup_prometheus_sensors(app, name_prefix="faust")


def _raw_topic(name: str) -> faust.TopicT:
    """A topic read as raw bytes: the agent decodes each record itself, so a record that does
    not decode is handled there (kept for the DLQ, or skipped) instead of crashing the agent in
    Faust's decoder."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )


# Undecodable input keeps its original bytes for the dead-letter topic.
articles_topic = _raw_topic(settings.topic_articles)
enriched_topic = app.topic(settings.topic_enriched, partitions=settings.partitions)
entities_topic = app.topic(settings.topic_entities, partitions=settings.partitions)
# The same topic read back by the dashboard's counting agent, which skips foreign records.
entities_read = _raw_topic(settings.topic_entities)
dlq_topic = app.topic(settings.topic_dlq, partitions=settings.partitions)

# Article id → "partition:offset" of the message first accepted with it. Co-partitioned with
# the input because producers key messages by article id.
seen_ids = app.Table(
    "article-ids",
    key_type=str,
    value_type=str,
    partitions=settings.partitions,
)

# "entity id, language, stance" → articles that mentioned the entity, per minute of the entity
# events' timestamps, kept 16 minutes: the dashboard's top entities. Written from the entities
# topic, so partitioned like it (by entity id). Named for its key: the table of schema 1,
# "entity-mentions", was keyed by name and is left to expire.
entity_mentions = app.Table(
    "entity-id-mentions",
    key_type=str,
    value_type=int,
    default=int,
    partitions=settings.partitions,
).tumbling(entities.STEP_S, expires=entities.WINDOW_S + entities.STEP_S)
# Entity id → {"name", "forms"}: what the dashboard shows for an id. No value_type: Faust reads
# a value_type as a model class when it restores the table (dict has no from_data); the orjson
# codec gives the dict back.
entity_names = app.Table("entity-names", key_type=str, partitions=settings.partitions)


@app.on_worker_init.connect
def create_topics(sender: faust.App, **kwargs: Any) -> None:
    """Topics get their explicit partition counts before any agent or producer creates them,
    however the worker is started (`pipeline worker` or `faust -A pipeline.worker.agents
    worker`)."""
    ensure_topics(settings)
