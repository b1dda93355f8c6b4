"""The command line parses what the README documents."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import E5_BACKENDS, TASK_NAMES, parser


def test_choices_match_what_the_code_offers() -> None:
    from pipeline.nlp.e5.sessions import BACKENDS
    from pipeline.train.tasks import TASKS

    assert set(TASK_NAMES) == set(TASKS)
    assert E5_BACKENDS == BACKENDS


@pytest.mark.parametrize(
    "argv",
    [
        ["kafka", "start"],
        ["worker"],
        ["produce", "pipeline/seeds/"],
        ["tail", "--topic", "articles.dlq", "--from-beginning", "--max", "3", "--timeout", "5"],
        ["tag", "-", "--format", "pretty"],
        ["train", "ner", "--data", "../shared/data", "--out", "x", "--resume"],
        ["train", "stance", "--data", "d", "--out", "x", "--init", "h", "--lr", "1e-4"],
        ["train", "ner", "--data", "d", "--out", "x", "--device", "cuda", "--evaluate"],
        ["eval", "stance", "--head", "h", "--data", "d"],
        ["train", "aliases", "--data", "../shared/data", "--out", "aliases.json"],
        ["eval", "identity", "--data", "../shared/data"],
        ["bench", "model", "--json"],
        ["demo"],
        ["down"],
    ],
)
def test_documented_commands_parse(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    assert callable(args.run)


def refusal(**env: str) -> str:
    """The last line a worker started with these settings prints before it exits, failing."""
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "worker"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    return done.stderr.strip().splitlines()[-1]


def test_the_worker_refuses_exactly_once_with_one_clear_line() -> None:
    last = refusal(PIPELINE_PROCESSING_GUARANTEE="exactly_once")
    assert last.startswith("PIPELINE_PROCESSING_GUARANTEE=exactly_once is not supported")
    assert "at_least_once" in last


@pytest.mark.parametrize(
    ("setting", "value"), [("PIPELINE_BATCH_WAIT", "0"), ("PIPELINE_BATCH_SIZE", "0")]
)
def test_the_worker_refuses_batches_that_would_never_be_taken(setting: str, value: str) -> None:
    last = refusal(**{setting: value})
    assert last.startswith("cannot start: PIPELINE_BATCH_SIZE=")
    assert f"{setting}={value}" in last


def test_the_worker_will_not_start_without_a_usable_alias_table(tmp_path: Path) -> None:
    broken = tmp_path / "aliases.json"
    broken.write_text("{not json", encoding="utf-8")
    last = refusal(PIPELINE_ALIASES=str(broken))
    assert last.startswith(f"cannot start: alias table {broken} is not valid JSON")


def test_without_the_train_extra_training_commands_name_it() -> None:
    """A serving install has no torch: `eval` says which extra to install, in one line."""
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"  # importing it now fails as if it were not installed
        "from pipeline.cli import main\n"
        "main(['eval', 'ner', '--head', 'h', '--data', 'd'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "needs torch: pip install 'news-enrichment-pipeline[train]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_the_train_extra_the_hf_tagger_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.nlp import load_tagger

    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "pipeline.nlp.hf", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"hf tagger needs torch: pip install"):
        load_tagger("hf", ner_model="any")


def pipeline_run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv], capture_output=True, text=True, timeout=300
    )


def test_training_on_a_device_that_is_not_there_stops_before_reading_data(tmp_path: Path) -> None:
    """cuda:99 exists on no machine; the run must say so at once, not fail hours later (or
    fall back to the CPU). --data names no folder: reading it would fail differently."""
    missing = str(tmp_path / "no-data")
    done = pipeline_run("train", "ner", "--data", missing, "--out", str(tmp_path / "run"),
                        "--device", "cuda:99")  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--device cuda:99: not usable on this machine" in done.stderr
    assert "Traceback" not in done.stderr and "no-data" not in done.stderr


def test_train_then_evaluate_in_one_command(tmp_path: Path) -> None:
    """`--evaluate SOURCE` scores the trained head on that set and saves the report beside the
    run (a few steps on a made-up corpus in ner-uk's format)."""
    iob = tmp_path / "data" / "ner-uk" / "v2.0" / "iob"
    iob.mkdir(parents=True)
    sentence = "Зеленський B-PERS\nприбув O\nдо O\nАстани B-LOC\n. O\n\n"
    (iob / "train.iob").write_text(sentence * 8, encoding="utf-8")
    (iob / "test.iob").write_text(sentence * 2, encoding="utf-8")
    out = tmp_path / "run"
    done = pipeline_run("train", "ner", "--data", str(tmp_path / "data"), "--out", str(out),
                        "--sources", "ner-uk:train", "--first-layer", "11", "--batch-tokens",
                        "256", "--evaluate", "ner-uk:test")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "final" / "weights.safetensors").is_file()
    report = json.loads((out / "eval.json").read_text())
    assert set(report) == {"ner-uk:test"}
    assert report["ner-uk:test"]["micro"]["n"] == 4  # two sentences, two names each
    assert f"scores saved to {out / 'eval.json'}" in done.stderr


def test_an_authentication_failure_is_not_hidden_by_the_timeouts_after_it() -> None:
    """The client retries after a refused login and the retries time out; the user must read
    the refusal, not the last timeout (seen in CI: the timeout replaced it)."""
    import logging

    from pipeline.cli import KafkaClientError

    client_error = KafkaClientError()
    kafka_log = logging.getLogger("kafka.net.manager")
    kafka_log.addHandler(client_error)
    try:
        kafka_log.error("Connection failed: Connection lost: socket disconnected")
        assert client_error.cause == ""
        kafka_log.error("Connection failed: SaslAuthenticationFailedError: Authentication failed")
        kafka_log.error("Connection failed: RequestTimedOutError: Request timed out after 220 ms")
    finally:
        kafka_log.removeHandler(client_error)
    assert "Authentication failed" in client_error.cause
