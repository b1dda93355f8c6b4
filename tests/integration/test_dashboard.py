"""/dashboard/ in headless Chromium, /metrics and /ready, on a real worker with the e5 tagger."""

from __future__ import annotations

import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from playwright.sync_api import ConsoleMessage, sync_playwright

from pipeline.contracts import entity_labels
from pipeline.local import WorkerProcess
from pipeline.settings import PROJECT_ROOT, SEED_DIR, Settings
from tests.conftest import free_port
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration
SEED_ID = "000_25d5417d1e5c359d"
SEED_JSONL = SEED_DIR / f"{SEED_ID}.jsonl"
CHROMIUM = "/usr/bin/chromium"
# As the probe of this machine ran it: no background traffic, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOT = PROJECT_ROOT / ".local" / "dashboard.png"
# An article whose title is markup: the page must show it as text, never build elements from it.
MARKUP = {
    "id": "markup-1",
    "title": "<img src=x onerror=\"document.title='owned'\"><b>Київ</b> and Kyiv",
    "body": "Зеленський приїхав до Києва. Zelensky visited Kyiv on Monday.",
}


@pytest.fixture(scope="module")
def e5_settings(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    uid = f"dash-{uuid.uuid4().hex[:8]}"
    return kafka.isolated(
        uid, web_port=free_port(), data_dir=tmp_path_factory.mktemp(uid), tagger="e5",
        batch_wait=0.2,
    )  # fmt: skip


@pytest.fixture(scope="module")
def e5_worker(e5_settings: Settings) -> Iterator[WorkerProcess]:
    """The worker after it enriched the seed and the markup article and dead-lettered two."""
    with WorkerProcess(e5_settings).running(ready_timeout_s=300) as worker:
        produced = run_cli(e5_settings, "produce", str(SEED_JSONL))
        assert produced.returncode == 0, produced.stderr.decode()
        producer = KafkaProducer(bootstrap_servers=e5_settings.broker)
        producer.send(e5_settings.topic_articles, key=b"markup-1", value=orjson.dumps(MARKUP))
        for bad in (b"not json", b'{"id": "no-body"}'):
            producer.send(e5_settings.topic_articles, key=b"bad", value=bad)
        producer.close()
        wait_for(
            worker, lambda d: d["totals"]["enriched"] >= 2 and d["totals"]["dead_letters"] >= 2
        )
        yield worker


def get(worker: WorkerProcess, path: str) -> bytes:
    with urllib.request.urlopen(worker.web_url + path, timeout=10) as response:
        return response.read()


def wait_for(worker: WorkerProcess, done: Any, timeout_s: float = 180) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        data = orjson.loads(get(worker, "/dashboard/data"))
        if done(data):
            return data
        time.sleep(1)
    raise TimeoutError(f"the dashboard data never got there; see {worker.log_file}")


def test_dashboard_in_chromium(e5_worker: WorkerProcess) -> None:
    data = wait_for(e5_worker, lambda d: any(a["id"] == SEED_ID for a in d["latest"]))
    seed = next(a for a in data["latest"] if a["id"] == SEED_ID)
    title_marks = [
        seed["title"][e["start"] : e["end"]] for e in seed["entities"] if e["field"] == "title"
    ]
    assert title_marks, "the tagger found no entity in the seed's title"

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                problems.append(f"console {message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.goto(e5_worker.web_url + "/dashboard/")
        page.wait_for_function("window.dashboardState.updates >= 2", timeout=30_000)

        points = {
            chart: int(page.get_attribute(f"#chart-{chart}", "data-points") or 0)
            for chart in ("throughput", "dead-letters", "lag", "latency", "batch")
        }
        canvases = page.locator(".chart canvas").count()
        status = page.text_content("#status")
        seed_article = page.locator(f'article[data-id="{SEED_ID}"]')
        marks = seed_article.locator("h3 mark.ent").all_text_contents()
        entity_rows = page.locator("#entities .entity .name").all_text_contents()
        row_ids = page.locator("#entities .entity").evaluate_all(
            "rows => rows.map(r => r.dataset.id)"
        )
        page.locator('#entities .entity[data-id="PER:volodymyr-zelensky"]').click()
        page.wait_for_selector("#entity-detail:not([hidden]) .timeline", timeout=10_000)
        detail_title = page.text_content("#entity-detail h2") or ""
        detail_languages = page.locator(
            "#entity-detail .minutes:not(.axis) .lang"
        ).all_text_contents()
        detail_articles = page.locator("#entity-detail .mentions li").all_text_contents()
        filters = page.locator("#label-filter label").all_text_contents()
        shown_types = page.locator("#entities h3").all_text_contents()
        page.locator('#label-filter input[value="LOC"]').uncheck()  # hide one type
        without_loc = page.locator("#entities h3").all_text_contents()
        page.locator('#label-filter input[value="LOC"]').check()
        languages = page.text_content("#languages") or ""
        markup_article = page.locator('article[data-id="markup-1"]')
        markup_title = markup_article.locator("h3").text_content()
        injected = markup_article.locator("h3 img, h3 b").count()
        document_title = page.title()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()

    assert problems == []
    assert all(n > 0 for n in points.values()), points
    assert canvases >= len(points)
    assert status == "ready"
    assert marks == title_marks
    assert set(entity_rows) & {e["canonical"] for e in seed["entities"]}
    assert len(row_ids) == len(set(row_ids)) and "PER:volodymyr-zelensky" in row_ids  # one row each
    assert "Зеленськ" in detail_title and "PER:volodymyr-zelensky" in detail_title
    assert "uk" in detail_languages
    assert any(seed["title"] in a for a in detail_articles)
    assert filters == list(entity_labels())  # the types come from the schema, via the server
    assert "LOC" in shown_types and without_loc == [t for t in shown_types if t != "LOC"]
    assert "uk" in languages
    assert markup_title == MARKUP["title"] and injected == 0
    assert document_title == "News enrichment · dashboard"
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        metric, _, label_text = sample.partition("{")
        if metric == name and ",".join(sorted(label_text.rstrip("}").split(","))) == wanted:
            return float(value)
    raise KeyError(f"{name}{{{wanted}}} not in /metrics")


def test_metrics_count_what_the_worker_did(e5_worker: WorkerProcess, e5_settings: Settings) -> None:
    text = get(e5_worker, "/metrics").decode()
    assert metric_value(text, "pipeline_articles_enriched_total", language="uk") >= 1
    enriched = re.findall(r"^pipeline_articles_enriched_total\{language=\S+\} (\S+)$", text, re.M)
    assert sum(float(n) for n in enriched) >= 2
    assert metric_value(text, "pipeline_dead_letters_total", stage="decode", reason="json") == 1
    assert metric_value(text, "pipeline_dead_letters_total", stage="validate", reason="schema") == 1
    assert metric_value(text, "pipeline_articles_consumed_total") >= 4
    assert metric_value(text, "pipeline_tagging_seconds_count") >= 1
    assert metric_value(text, "pipeline_batch_size_count") >= 1
    assert metric_value(text, "pipeline_latency_seconds_count") >= 2
    assert metric_value(text, "pipeline_ready") == 1
    lags = re.findall(
        rf'pipeline_consumer_lag\{{partition="\d+",topic="{e5_settings.topic_articles}"}} (\S+)',
        text,
    )
    assert lags and all(float(v) == 0 for v in lags)
    assert metric_value(text, "faust_messages_received_total") >= 4  # Faust's own sensor


def test_grafana_dashboard_queries_metrics_the_worker_serves(e5_worker: WorkerProcess) -> None:
    served = {
        line.split("{")[0].split(" ")[0]
        for line in get(e5_worker, "/metrics").decode().splitlines()
        if line and not line.startswith("#")
    }
    dashboard = orjson.loads((PROJECT_ROOT / "docker" / "grafana-dashboard.json").read_bytes())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"\b(pipeline_\w+|faust_\w+)", expr)}
    assert len(exprs) >= 6 and used
    assert used <= served, used - served


def test_health_and_ready(e5_worker: WorkerProcess, e5_settings: Settings) -> None:
    health = orjson.loads(get(e5_worker, "/health"))
    assert health["status"] == "alive" and health["enriched"] >= 2
    ready = e5_worker.readiness() or {}
    assert ready["ready"] is True
    assert ready["input_partitions"] == list(range(e5_settings.partitions))
    assert ready["models"][0].startswith("ner=e5-small")


def test_foreign_records_on_the_entities_topic_do_not_stop_the_worker(
    e5_worker: WorkerProcess, e5_settings: Settings
) -> None:
    pid = e5_worker.pid()
    producer = KafkaProducer(bootstrap_servers=e5_settings.broker)
    for value in (b"not json", b'{"label": "PER"}', b"[1, 2]", b'"text"'):
        producer.send(e5_settings.topic_entities, key=b"foreign", value=value)
    producer.close()
    time.sleep(5)
    assert e5_worker.pid() == pid and e5_worker.ready(), f"see {e5_worker.log_file}"
    log = e5_worker.log_file.read_text(errors="replace")
    assert log.count("is not an entity event of schema 2; not counted") == 4
    assert "Crashed" not in log
    assert orjson.loads(get(e5_worker, "/dashboard/data"))["top_entities"]
