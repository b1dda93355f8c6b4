"""produce → worker → enriched / entities → tail, on the real broker, through the CLI."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import orjson
import pytest

from pipeline.contracts import schema_errors
from pipeline.kafka.tail import collect
from pipeline.local import WorkerProcess
from pipeline.settings import SEED_DIR, Settings
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration
SEED_JSONL = SEED_DIR / "000_25d5417d1e5c359d.jsonl"
BODIES = {
    "uk": "Зеленський зустрівся з Токаєвим в Астані. Сторони обговорили переговори.",
    "ru": "Путин провёл переговоры с Токаевым в Москве. Стороны обсудили торговлю.",
    "en": "Tokayev said Kazakhstan would host talks between Ukraine and Russia in Astana.",
}


def write_articles(path: Path, count: int) -> list[str]:
    ids, lines = [], []
    for i in range(count):
        lang = list(BODIES)[i % 3]
        ids.append(f"flow-{i}")
        lines.append(orjson.dumps({"id": ids[-1], "title": f"{lang} {i}", "body": BODIES[lang]}))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return ids


def test_articles_flow_to_enriched_and_entities(
    pipeline_settings: Settings, worker: WorkerProcess, tmp_path: Path
) -> None:
    ids = ["000_25d5417d1e5c359d", *write_articles(tmp_path / "batch.jsonl", 30)]
    produced = run_cli(pipeline_settings, "produce", str(SEED_JSONL), str(tmp_path / "batch.jsonl"))
    assert produced.returncode == 0, produced.stderr.decode()
    assert b"sent 31 to" in produced.stderr

    tailed = run_cli(
        pipeline_settings, "tail", "--from-beginning", "--format", "jsonl", "--max", "31",
        "--timeout", "120",
    )  # fmt: skip
    assert tailed.returncode == 0, tailed.stderr.decode()
    records = [orjson.loads(line) for line in tailed.stdout.splitlines()]
    assert sorted(r["id"] for r in records) == sorted(ids)
    for record in records:
        assert schema_errors("enriched", record) == []
    by_id = {r["id"]: r for r in records}
    assert by_id["000_25d5417d1e5c359d"]["language"] == "uk"
    assert {by_id[f"flow-{i}"]["language"] for i in range(3)} == {"uk", "ru", "en"}
    assert any(s["target_type"] == "topic" for s in by_id["000_25d5417d1e5c359d"]["stance"])

    # keys are the article ids; entity events carry the article key in a header
    enriched = collect(
        pipeline_settings, pipeline_settings.topic_enriched, [i.encode() for i in ids]
    )
    assert set(enriched) == {i.encode() for i in ids}
    expected_entities = {(r["id"], e["entity_id"]) for r in records for e in r["entities"]}
    assert expected_entities, "the random model tags something in 31 articles"
    seen = set()
    for record in collect(
        pipeline_settings, pipeline_settings.topic_entities, None, timeout_s=5
    ).values():
        for message in record:
            event = orjson.loads(message.value)
            assert schema_errors("entity", event) == []
            assert message.key == event["entity_id"].encode()
            assert dict(message.headers)["article-key"] == event["article_id"].encode()
            assert (event["article_id"], event["entity_id"]) not in seen  # one per entity
            seen.add((event["article_id"], event["entity_id"]))
    assert seen == expected_entities


def test_tail_pretty_shows_title_language_and_entities(
    pipeline_settings: Settings, worker: WorkerProcess
) -> None:
    produced = run_cli(pipeline_settings, "produce", str(SEED_JSONL))
    assert produced.returncode == 0
    tailed = run_cli(
        pipeline_settings, "tail", "--from-beginning", "--key", "000_25d5417d1e5c359d",
        "--max", "1", "--timeout", "60",
    )  # fmt: skip
    out = tailed.stdout.decode()
    assert "Президент Казахстану" in out and "language uk (detected)" in out
    assert "прямі переговори між Україною та Росією" in out


@pytest.mark.parametrize(
    "path",
    ["/health", "/ready", "/", "/assignment/", "/performance/", "/table/", "/dashboard/data"],
)
def test_web_view_pages(pipeline_settings: Settings, worker: WorkerProcess, path: str) -> None:
    """The pipeline's pages and Faust's own built-in ones answer JSON."""
    with urllib.request.urlopen(worker.web_url + path, timeout=10) as response:
        assert response.status == 200
        body = orjson.loads(response.read())
    if path == "/ready":
        assert body["ready"] is True and body["model_loaded"] is True
        assert body["input_partitions"] == list(range(pipeline_settings.partitions))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/dashboard/", "text/html"),
        ("/dashboard/static/dashboard.js", "application/javascript"),
        ("/dashboard/static/vendor/uPlot.iife.min.js", "application/javascript"),
        ("/metrics", "text/plain"),
    ],
)
def test_web_view_assets(worker: WorkerProcess, path: str, content_type: str) -> None:
    with urllib.request.urlopen(worker.web_url + path, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(content_type)
        assert len(response.read()) > 100


def test_produce_reports_invalid_records_and_sends_the_rest(
    pipeline_settings: Settings, worker: WorkerProcess, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": "mixed-ok", "body": "Kyiv."}\n{"id": "mixed-bad", "body": ""}\n{oops\n',
        encoding="utf-8",
    )
    produced = run_cli(pipeline_settings, "produce", str(path))
    assert produced.returncode == 1
    err = produced.stderr.decode()
    assert f"{path}:2: schema: body: does not match minLength" in err
    assert f"{path}:3: invalid JSON" in err
    assert "sent 1 to" in err
    assert b"mixed-ok" in collect(
        pipeline_settings, pipeline_settings.topic_enriched, [b"mixed-ok"]
    )


def test_topics_have_the_configured_partitions(
    pipeline_settings: Settings, worker: WorkerProcess
) -> None:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=pipeline_settings.broker)
    try:
        for topic in (pipeline_settings.topic_articles, *pipeline_settings.output_topics):
            assert len(consumer.partitions_for_topic(topic)) == pipeline_settings.partitions
    finally:
        consumer.close()
