"""Topic creation with explicit partition counts, before anything produces or consumes."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from pipeline.kafka.security import client_config
from pipeline.settings import Settings

# Outputs hold a whole article (and the DLQ its bytes in base64), so they allow more than input.
INPUT_MAX_BYTES = 8 * 1024 * 1024
OUTPUT_MAX_BYTES = 16 * 1024 * 1024


def topic_specs(settings: Settings) -> list[NewTopic]:
    def topic(name: str, max_bytes: int) -> NewTopic:
        return NewTopic(
            name,
            num_partitions=settings.partitions,
            replication_factor=settings.replication,
            topic_configs={"max.message.bytes": str(max_bytes)},
        )

    return [
        topic(settings.topic_articles, INPUT_MAX_BYTES),
        *(topic(name, OUTPUT_MAX_BYTES) for name in settings.output_topics),
    ]


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create missing pipeline topics; return the names created. Existing ones are kept as is."""
    admin = KafkaAdminClient(**client_config(settings), client_id="pipeline-admin")
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topic_specs(settings) if t.name not in existing]
        created = []
        for spec in missing:
            try:
                admin.create_topics([spec], timeout_ms=int(timeout_s * 1000))
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        deadline = time.monotonic() + timeout_s
        while created and time.monotonic() < deadline:
            if set(created) <= set(admin.list_topics()):
                break
            time.sleep(0.2)
        return created
    finally:
        admin.close()
