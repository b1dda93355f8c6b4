"""The `pipeline` command: subcommands parse their arguments and delegate."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from pipeline import TRAIN_EXTRA, TRAIN_INSTALL
from pipeline.render import messages_console, problem
from pipeline.settings import SEED_DIR, Settings

E5_BACKENDS = ("onnx-int8", "onnx-fp32")  # pipeline.nlp.e5.sessions.BACKENDS
TASK_NAMES = ("ner", "stance")  # pipeline.train.tasks.TASKS, without importing torch at start-up
DEMO_SEED = SEED_DIR / "000_25d5417d1e5c359d.jsonl"
err = messages_console()


def cmd_kafka(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.kafka.broker import BrokerError, LocalBroker

    broker = LocalBroker(settings)
    try:
        if args.action == "start":
            pid = broker.start()
            err.print(f"Kafka {broker.address[0]}:{broker.address[1]} is up (pid {pid})")
        elif args.action == "stop":
            err.print("Kafka stopped" if broker.stop() else "Kafka was not running")
        else:
            up = broker.answers()
            err.print(f"Kafka {'answers' if up else 'is not answering'}; pid {broker.pid()}")
            return 0 if up else 1
    except BrokerError as exc:
        problem(err, "error:", str(exc))
        return 1
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.worker.agents import app

    sys.argv = ["pipeline worker", "worker", "-l", settings.log_level, *args.faust_args]
    app.main()
    return 0


def cmd_produce(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.kafka.produce import produce_files

    report = produce_files(args.paths, settings)
    for origin, reason in report.invalid:
        problem(err, "invalid", f"{origin}: {reason}")
    for origin, reason in report.failed:
        problem(err, "not sent", f"{origin}: {reason}")
    rate = report.sent / report.seconds if report.seconds else 0.0
    err.print(
        f"sent {report.sent} to {settings.topic_articles} in {report.seconds:.2f} s "
        f"({rate:.0f}/s); invalid {len(report.invalid)}; failed {len(report.failed)}"
    )
    return 0 if report.ok else 1


def cmd_tail(args: argparse.Namespace, settings: Settings) -> int:
    import orjson

    from pipeline.kafka.tail import decode, read_topic
    from pipeline.render import print_pretty

    out = Console()
    key = args.key.encode() if args.key else None
    count = 0
    for record in read_topic(
        settings,
        args.topic or settings.topic_enriched,
        from_beginning=args.from_beginning,
        timeout_s=args.timeout,
    ):
        if key is not None and record.key != key:
            continue
        if args.format == "pretty":
            print_pretty(out, decode(record))
        else:
            sys.stdout.buffer.write(orjson.dumps(decode(record)) + b"\n")
            sys.stdout.flush()
        count += 1
        if args.max is not None and count >= args.max:
            break
    return 0


def cmd_tag(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.nlp.identity import AliasTableError
    from pipeline.tag import tag_inputs

    try:
        return tag_inputs(args.inputs, settings, pretty=args.format == "pretty")
    except AliasTableError as exc:
        problem(err, "error:", str(exc))
        return 1


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    if args.task == "aliases":
        from pipeline.train.identity import build_aliases

        args.out.write_bytes(build_aliases(args.data).to_json() + b"\n")
        err.print(f"alias table saved to {args.out}")
        return 0
    from pipeline.train.loop import UnusableDevice
    from pipeline.train.tasks import train_task

    try:
        path = train_task(
            args.task, args.data, args.out, sources=args.sources, epochs=args.epochs,
            batch_tokens=args.batch_tokens, seed=args.seed, resume=args.resume, init=args.init,
            lr=args.lr, balance=args.balance, first_layer=args.first_layer, device=args.device,
            log=err.print,
        )  # fmt: skip
    except UnusableDevice as exc:
        problem(err, "error:", str(exc))
        return 2
    err.print(f"trained head saved to {path}")
    if args.evaluate is not None:
        import orjson

        from pipeline.train.tasks import evaluate_task

        report = evaluate_task(args.task, path, args.data, args.evaluate or None, log=err.print)
        report_file = args.out / "eval.json"
        report_file.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        err.print(f"scores saved to {report_file}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    import orjson

    if args.task == "identity":
        from pipeline.train.identity import evaluate_topics

        report = evaluate_topics(args.data, settings.aliases, log=err.print)
    else:
        from pipeline.train.tasks import evaluate_task

        if args.head is None:
            problem(err, "error:", f"eval {args.task} needs --head")
            return 2
        report = evaluate_task(
            args.task, args.head, args.data, args.sources, backend=args.backend, log=err.print
        )
        if args.calibrate:
            if args.task != "stance":
                problem(err, "error:", "--calibrate is for the stance head")
                return 2
            from pipeline.train.stance import calibrate_head

            temperature = calibrate_head(args.head, args.data, args.backend)
            report["temperature"] = temperature
            err.print(f"temperature {temperature} saved in {args.head}/head.json")
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def cmd_label(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.train.teacher import DEFAULT_SOURCES, write_teacher_labels

    sources = args.sources or DEFAULT_SOURCES
    count = write_teacher_labels(args.head, args.data, args.out, sources, args.backend)
    err.print(f"{count} judgements saved to {args.out} (train on them: --sources teacher:FILE)")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    import orjson

    articles = args.articles or (8 if args.quick else 40)
    if args.what == "e2e":
        from pipeline.bench.e2e import format_table, run
        from pipeline.bench.plot import plot

        result = run(
            settings,
            args.data,
            articles,
            2_000 if args.quick else 20_000,
            scale=not args.quick,
            rounds=1 if args.quick else 2,
        )
        result["plot"] = str(plot(result, args.plot or settings.data_dir / "bench" / "bench.png"))
        report: Any = format_table(result)
    else:  # the naive baseline runs transformers pipelines: needs the `train` extra
        import torch

        from pipeline.bench.model import bench_model, bench_texts, format_report
        from pipeline.nlp.e5 import head_folder

        if settings.torch_threads > 0:
            torch.set_num_threads(settings.torch_threads)
        texts = bench_texts(args.data, articles)
        ner, stance = (
            head_folder("ner", settings.ner_model),
            head_folder("stance", settings.stance_model),
        )
        result = bench_model(ner, stance, texts, settings.model_cache, settings.e5_backend)
        result["threads"] = torch.get_num_threads()
        report = format_report(result)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    else:
        Console().print(report)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.demo import run_demo

    return run_demo(settings, DEMO_SEED)


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.kafka.broker import LocalBroker
    from pipeline.local import WorkerProcess

    err.print("worker stopped" if WorkerProcess(settings).stop() else "no worker was running")
    err.print("Kafka stopped" if LocalBroker(settings).stop() else "Kafka was not running")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="pipeline",
        description="Streaming enrichment of multilingual news: entities and stance on Kafka.",
        epilog="Settings come from PIPELINE_* environment variables (see README).",
    )
    sub = top.add_subparsers(dest="command", required=True)

    kafka = sub.add_parser("kafka", help="the local single-node Kafka broker (KRaft)")
    kafka.add_argument("action", choices=["start", "stop", "status"])
    kafka.set_defaults(run=cmd_kafka)

    worker = sub.add_parser("worker", help="run the Faust worker (create topics, consume, enrich)")
    worker.add_argument("faust_args", nargs=argparse.REMAINDER, help="extra `faust worker` options")
    worker.set_defaults(run=cmd_worker)

    produce = sub.add_parser("produce", help="validate and send articles (.json, .jsonl, .txt)")
    produce.add_argument("paths", nargs="+", type=Path, help="files or folders")
    produce.set_defaults(run=cmd_produce)

    tail = sub.add_parser("tail", help="print records of a topic")
    tail.add_argument("--topic", help="default: the enriched topic")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--max", type=int, help="stop after N records")
    tail.add_argument("--timeout", type=float, help="stop after S seconds without a record")
    tail.add_argument("--key", help="only records with this key (article id)")
    tail.add_argument("--format", choices=["pretty", "jsonl"], default="pretty")
    tail.set_defaults(run=cmd_tail)

    tag = sub.add_parser("tag", help="enrich files offline (no Kafka) to JSON Lines on stdout")
    tag.add_argument("inputs", nargs="+", help="files, folders, or - for JSON Lines on stdin")
    tag.add_argument("--format", choices=["jsonl", "pretty"], default="jsonl")
    tag.set_defaults(run=cmd_tag)

    train = sub.add_parser(
        "train", help="train an e5 head (NER or stance), or build the entity alias table"
    )
    train.add_argument("task", choices=(*TASK_NAMES, "aliases"))
    train.add_argument("--data", type=Path, required=True, help="the labelled data folder")
    train.add_argument(
        "--out", type=Path, required=True, help="checkpoints and the result (aliases: a file)"
    )
    train.add_argument("--sources", nargs="+", help="name:split[:cap] items (default: all)")
    train.add_argument("--epochs", type=float, help="passes over the data (default: per task)")
    train.add_argument("--batch-tokens", type=int, default=2048)
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--resume", action="store_true", help="continue from out/checkpoint")
    train.add_argument("--init", type=Path, help="start from this trained head (a further pass)")
    train.add_argument("--lr", type=float, help="peak learning rate (default: per task)")
    train.add_argument(
        "--balance", action="store_true", help="weight the loss toward rare labels (sqrt)"
    )
    train.add_argument(
        "--first-layer", type=int, default=4,
        help="lowest encoder layer (0-11) given adapters: lower adapts more, trains slower",
    )  # fmt: skip
    train.add_argument("--device", default="cpu", help="torch device to train on, e.g. cuda")
    train.add_argument(
        "--evaluate", nargs="*", metavar="SOURCE",
        help="then score the result (fp32) on these name:split sets, or on the task's test sets "
        "if none are named; saved as OUT/eval.json",
    )  # fmt: skip
    train.set_defaults(run=cmd_train)

    evaluate = sub.add_parser(
        "eval", help="F1 of a trained head on held-out data; identity: lemmas and entity ids"
    )
    evaluate.add_argument("task", choices=(*TASK_NAMES, "identity"))
    evaluate.add_argument("--head", type=Path, help="a trained head folder (ner, stance)")
    evaluate.add_argument("--data", type=Path, required=True)
    evaluate.add_argument("--sources", nargs="+", help="name:split items (default: test sets)")
    evaluate.add_argument("--backend", choices=E5_BACKENDS, default="onnx-fp32")
    evaluate.add_argument(
        "--calibrate", action="store_true",
        help="stance: then fit the head's temperature on the calibration sets, into head.json",
    )  # fmt: skip
    evaluate.set_defaults(run=cmd_eval)

    label = sub.add_parser(
        "label", help="a trained stance head's judgements of unlabelled names: soft labels"
    )
    label.add_argument("task", choices=["stance"])
    label.add_argument("--head", type=Path, required=True, help="the teacher head folder")
    label.add_argument("--data", type=Path, required=True, help="the labelled data folder")
    label.add_argument("--out", type=Path, required=True, help="a JSON lines file")
    label.add_argument(
        "--sources", nargs="+", metavar="SOURCE",
        help="NER corpora whose names are judged, name:split[:sentences] (default: SlavicNER, "
        "3,500 ner-uk and 2,000 CoNLL-2003 sentences, factRuEval dev), or Russian news with "
        "its own targets: rusentne:final, rusentrel:all",
    )  # fmt: skip
    label.add_argument("--backend", choices=E5_BACKENDS, default="onnx-int8")
    label.set_defaults(run=cmd_label)

    bench = sub.add_parser("bench", help="benchmarks (ratios against a same-run baseline)")
    bench.add_argument(
        "what",
        nargs="?",
        choices=["e2e", "model"],
        default="e2e",
        help="e2e: real Kafka and workers (default); model: the model alone",
    )
    bench.add_argument("--data", type=Path, help="labelled data folder (news texts); else seeds")
    bench.add_argument("--articles", type=int, help="news articles (default 40, --quick 8)")
    bench.add_argument("--quick", action="store_true", help="small sizes: about two minutes")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--plot", type=Path, help="PNG of the e2e figures (.local/bench/bench.png)")
    bench.set_defaults(run=cmd_bench)

    demo = sub.add_parser("demo", help="start Kafka and a worker, enrich the seed, show it")
    demo.set_defaults(run=cmd_demo)

    down = sub.add_parser("down", help="stop the background worker and the local Kafka")
    down.set_defaults(run=cmd_down)
    return top


class KafkaClientError(logging.Handler):
    """Keeps the Kafka client's last error, which it logs while retrying and does not put in
    the exception it finally raises. An authentication or authorisation failure sticks: the
    retries after it end in timeouts that would hide the cause."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.message = ""
        self.refused = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().split(">: ", 1)[-1]  # without the connection's repr
        if "Authentication" in message or "Authorization" in message:
            self.refused = self.refused or message
        elif not message.startswith("Bootstrap failed") and "socket disconnected" not in message:
            self.message = message

    @property
    def cause(self) -> str:
        return self.refused or self.message


def main(argv: list[str] | None = None) -> None:
    from kafka.errors import KafkaError

    args = parser().parse_args(argv)
    settings = Settings()
    client_error = KafkaClientError()
    logging.getLogger("kafka").addHandler(client_error)
    try:
        sys.exit(args.run(args, settings))
    except KafkaError as exc:
        said = f"; client error: {client_error.cause}" if client_error.cause else ""
        problem(err, "kafka:", f"{settings.broker} ({settings.security_protocol}): {exc}{said}")
        sys.exit(2)
    except ModuleNotFoundError as exc:
        if exc.name not in TRAIN_EXTRA:
            raise
        problem(err, "install:", f"`pipeline {args.command}` needs {exc.name}: {TRAIN_INSTALL}")
        sys.exit(2)
