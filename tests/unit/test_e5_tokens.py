"""Serving tokenizes like training did, and serving on ONNX Runtime never imports torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.train.model import load_tokenizer
from tests.unit.test_e5_convert import TEXTS
from tests.unit.test_enrich import seed_article

BODY = seed_article()["body"]


@pytest.mark.parametrize(
    "options",
    [
        {"add_special_tokens": False, "return_offsets_mapping": True},
        {"add_special_tokens": False, "return_offsets_mapping": True, "truncation": True,
         "max_length": 16},
        {"truncation": True, "max_length": 512},
    ],
)  # fmt: skip
def test_the_serving_tokenizer_matches_transformers(options: dict) -> None:
    texts = [*TEXTS, BODY, "", "  spaces  and\ttabs "]
    ours = load_serving_tokenizer()(texts, return_attention_mask=False, **options)
    theirs = load_tokenizer()(texts, return_attention_mask=False, **options)
    assert ours["input_ids"] == theirs["input_ids"]
    if "return_offsets_mapping" in options:
        assert [list(map(tuple, o)) for o in ours["offset_mapping"]] == [
            list(map(tuple, o)) for o in theirs["offset_mapping"]
        ]


def test_pairs_truncate_only_the_second_text_like_transformers() -> None:
    first, second = ["Токаєв", "Russia"], [BODY, "A short text."]
    options = {"truncation": "only_second", "max_length": 64, "return_attention_mask": False}
    ours = load_serving_tokenizer()(first, second, **options)["input_ids"]
    assert ours == load_tokenizer()(first, second, **options)["input_ids"]
    assert len(ours[0]) == 64
    serving = load_serving_tokenizer()
    assert (serving.pad_token_id, serving.cls_token_id, serving.sep_token_id) == (1, 0, 2)


def test_serving_on_onnx_runtime_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from pipeline.enrich import Enricher\n"
        "from pipeline.settings import Settings\n"
        "Enricher.from_settings(Settings(tagger='e5', e5_backend='onnx-int8'))\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
