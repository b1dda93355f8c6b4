"""`pipeline tag`: the same enrichment offline, one JSON line per input article, in order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from pipeline.contracts import schema_errors
from pipeline.settings import SEED_DIR, Settings
from tests.integration.conftest import run_cli

SEED_TXT = SEED_DIR / "000_25d5417d1e5c359d.txt"


@pytest.fixture
def tag_settings(tiny_models: dict[str, Path]) -> Settings:
    """No broker needed: `tag` never touches Kafka."""
    return replace(
        Settings(),
        tagger="hf",
        ner_model=str(tiny_models["ner"]),
        stance_model=str(tiny_models["nli"]),
        stance_topics=("прямі переговори між Україною та Росією",),
        torch_threads=1,
    )


def test_tag_a_seed_file_with_the_hf_backend(tag_settings: Settings) -> None:
    result = run_cli(tag_settings, "tag", str(SEED_TXT))
    assert result.returncode == 0, result.stderr.decode()
    (line,) = result.stdout.splitlines()
    record = orjson.loads(line)
    assert schema_errors("enriched", record) == []
    assert record["id"] == "000_25d5417d1e5c359d" and record["language"] == "uk"
    assert {m["task"] for m in record["models"]} >= {"ner", "stance"}
    for ent in record["entities"]:
        assert record[ent["field"]][ent["start"] : ent["end"]] == ent["text"]


@pytest.mark.parametrize("tagger", ["null", "hf"])
def test_tag_stdin_keeps_order_and_names_bad_lines(tag_settings: Settings, tagger: str) -> None:
    settings = replace(tag_settings, tagger=tagger, batch_size=2)
    lines = [
        {"id": "a", "body": "Зеленський прибув до Києва."},
        {"id": "b", "body": ""},
        {"id": "c", "body": "Путин прилетел в Астану."},
        {"id": "d", "body": "Tokayev said Kazakhstan is ready to host the talks."},
    ]
    stdin = b"\n".join(orjson.dumps(line) for line in lines) + b"\n{broken\n"
    result = run_cli(settings, "tag", "-", stdin=stdin)
    assert result.returncode == 1
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", "c", "d"]
    assert [r["language"] for r in records] == ["uk", "ru", "en"]
    err = result.stderr.decode()
    assert "<stdin>:2: schema: body: does not match minLength" in err
    assert "<stdin>:5: invalid JSON" in err
