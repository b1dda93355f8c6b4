"""The command line parses what the README documents."""

from __future__ import annotations

import pytest

from pipeline.cli import E5_BACKENDS, TASK_NAMES, parser


def test_choices_match_what_the_code_offers() -> None:
    from pipeline.nlp.e5.onnx import BACKENDS
    from pipeline.train.tasks import TASKS

    assert set(TASK_NAMES) == set(TASKS)
    assert E5_BACKENDS == BACKENDS


@pytest.mark.parametrize(
    "argv",
    [
        ["kafka", "start"],
        ["worker"],
        ["produce", "seeds/"],
        ["tail", "--topic", "articles.dlq", "--from-beginning", "--max", "3", "--timeout", "5"],
        ["tag", "-", "--format", "pretty"],
        ["train", "ner", "--data", "../shared/data", "--out", "x", "--resume"],
        ["train", "stance", "--data", "d", "--out", "x", "--init", "h", "--lr", "1e-4"],
        ["eval", "stance", "--head", "h", "--data", "d"],
        ["bench", "model", "--json"],
        ["demo"],
        ["down"],
    ],
)
def test_documented_commands_parse(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    assert callable(args.run)
