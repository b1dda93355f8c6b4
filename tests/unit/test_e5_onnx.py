"""The ONNX Runtime backend of the e5 heads: a cached build, its fidelity to the torch model
training runs, and the recognizers running on it.

Exports hold the real e5 base (470 MB fp32, 118 MB int8), so each is built once per module
into one cache folder and reused by the tests after it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from safetensors.torch import load_file, save_file

from pipeline.build import export
from pipeline.build.export import build_onnx
from pipeline.build.graph import ffn_output_matmul, outputs
from pipeline.build.head_config import WEIGHTS_FILE
from pipeline.nlp.e5 import sessions
from pipeline.nlp.e5.ner import E5EntityRecognizer, windows
from pipeline.nlp.e5.runner import pad_batch
from pipeline.nlp.e5.sessions import OnnxModel, load_classifier
from pipeline.nlp.e5.stance import E5Stance
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.nlp.types import StanceInput
from pipeline.settings import SEED_DIR
from pipeline.train.model import E5Classifier

Batch = tuple[np.ndarray, np.ndarray]

SEED = SEED_DIR / "000_25d5417d1e5c359d.jsonl"
BODY = json.loads(SEED.read_text(encoding="utf-8"))["body"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Removed afterwards rather than left to pytest: the exports come to about 1.6 GB."""
    folder = tmp_path_factory.mktemp("onnx")
    yield folder
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def seed_batch() -> Batch:
    """The seed article's sentence windows as one right-padded batch, as NER feeds them."""
    tokenizer = load_serving_tokenizer()
    return pad_batch([w.input_ids for w in windows(tokenizer, [BODY])], tokenizer.pad_token_id)


def torch_logits(head: Path, batch: Batch) -> np.ndarray:
    import torch

    model = E5Classifier.load(head).for_inference()
    with torch.inference_mode():
        return model(*(torch.from_numpy(a) for a in batch)).numpy()


def empty_graph(*_: object) -> onnx.ModelProto:
    """A stand-in for the real graph (470 MB): the cache logic alone is under test."""
    return onnx.helper.make_model(onnx.helper.make_graph([], "empty", [], []))


def test_build_is_cached_and_rebuilt_when_the_head_changes(
    e5_ner_head: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache logic alone, with a stand-in graph: the tests below build for real."""
    exported: list[Path] = []

    def graph(base: Path, head: Path) -> onnx.ModelProto:
        exported.append(head)
        return empty_graph()

    monkeypatch.setattr(export, "encoder_graph", graph)
    head = shutil.copytree(e5_ner_head, tmp_path / "head")
    cache = tmp_path / "cache"
    built = build_onnx(head, cache, quantize=False)
    assert build_onnx(head, cache, quantize=False) == built
    assert exported == [head]
    state = load_file(head / WEIGHTS_FILE)
    state["classifier.bias"] += 1.0
    save_file(state, head / WEIGHTS_FILE)
    rebuilt = build_onnx(head, cache, quantize=False)
    assert rebuilt != built and len(exported) == 2
    assert sorted(cache.iterdir()) == sorted([built, rebuilt])  # no staging folder left


def test_building_an_export_prunes_the_stale_ones(
    e5_ner_head: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "encoder_graph", empty_graph)
    cache = tmp_path / "cache"
    cache.mkdir()
    month_ago = time.time() - (export.STALE_DAYS + 1) * 86_400
    stale, recent = cache / "ner-0000000000000000-int8.onnx", cache / "other-fp32.onnx"
    for path in (stale, recent):
        path.write_bytes(b"")
    os.utime(stale, (month_ago, month_ago))
    built = build_onnx(e5_ner_head, cache, quantize=False)
    assert sorted(cache.iterdir()) == sorted([built, recent])
    os.utime(built, (month_ago, month_ago))
    assert build_onnx(e5_ner_head, cache, quantize=False) == built  # a cache hit marks it used
    assert built.stat().st_mtime > month_ago + 86_400


def test_fp32_graph_matches_torch(e5_ner_head: Path, cache: Path, seed_batch: Batch) -> None:
    """(The stance head's graph: test_e5_stance, through its pooling of targets.)"""
    expected = torch_logits(e5_ner_head, seed_batch)
    logits = OnnxModel(build_onnx(e5_ner_head, cache, quantize=False), outputs("token"))(
        *seed_batch
    )
    assert logits.shape == expected.shape  # [B, T, L]
    assert np.abs(logits - expected).max() < 1e-3


def test_int8_tags_agree_with_torch(e5_ner_head: Path, cache: Path, seed_batch: Batch) -> None:
    int8 = build_onnx(e5_ner_head, cache)
    assert int8.stat().st_size < build_onnx(e5_ner_head, cache, quantize=False).stat().st_size / 3
    tokens = seed_batch[1].astype(bool)
    expected = torch_logits(e5_ner_head, seed_batch).argmax(-1)[tokens]
    tags = OnnxModel(int8, outputs("token"), threads=2)(*seed_batch).argmax(-1)[tokens]
    assert (tags == expected).mean() >= 0.9


def test_int8_keeps_the_named_projections_fp32(e5_stance_head: Path, tmp_path: Path) -> None:
    head = shutil.copytree(e5_stance_head, tmp_path / "head")
    config = json.loads((head / "head.json").read_text())
    (head / "head.json").write_text(json.dumps({**config, "int8_fp32_ffn_layers": 2}))
    graph = onnx.load(build_onnx(head, tmp_path / "cache"), load_external_data=False).graph
    fp32 = {node.name for node in graph.node if node.op_type == "MatMul"}
    assert {ffn_output_matmul(0), ffn_output_matmul(1)} <= fp32
    assert ffn_output_matmul(2) not in fp32


def test_int8_reduce_range_keeps_weights_in_seven_bits(
    e5_stance_head: Path, tmp_path: Path
) -> None:
    """|w| ≤ 64: a CPU without VNNI can add two u8 × int8 products in 16 bits, unsaturated."""

    def largest_weight(head: Path) -> int:
        graph = onnx.load(build_onnx(head, tmp_path / "cache"), load_external_data=False).graph
        weights = [i for i in graph.initializer if i.data_type == onnx.TensorProto.INT8]
        return max(int(np.abs(numpy_helper.to_array(w).astype(np.int16)).max()) for w in weights)

    head = shutil.copytree(e5_stance_head, tmp_path / "head")
    assert largest_weight(head) > 64  # 8 bits by default
    config = json.loads((head / "head.json").read_text())
    (head / "head.json").write_text(json.dumps({**config, "int8_reduce_range": True}))
    assert largest_weight(head) <= 64


def test_recognizers_run_on_int8(
    e5_ner_head: Path, e5_stance_head: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "onnx_cache_dir", lambda base_dir=None: cache)
    recognizer = E5EntityRecognizer(e5_ner_head, backend="onnx-int8")
    assert isinstance(recognizer.model, OnnxModel)
    labels = {tag[2:] for tag in recognizer.labels if tag != "O"}
    texts = [BODY, "", "Президент Касим-Жомарт Токаєв прибув до Астани."]
    found = recognizer.predict(texts)
    assert len(found) == len(texts) and found[1] == []
    for text, spans in zip(texts, found, strict=True):
        for span in spans:
            assert 0 <= span.start < span.end <= len(text) and span.label in labels
            assert text[span.start : span.end] == text[span.start : span.end].strip()
            assert 0 < span.score <= 1
    stance = E5Stance(e5_stance_head, backend="onnx-int8")
    inputs = [
        StanceInput("Токаєв", "Токаєв підтримав переговори.", ((0, 6),)),
        StanceInput("Russia", "A long text. " * 200),
    ]
    probs = stance.distributions(inputs)
    assert probs.shape == (2, len(stance.labels))
    assert np.allclose(probs.sum(-1), 1, atol=1e-5) and (probs.max(-1) >= 1 / 3).all()


def test_unknown_backend_is_refused(e5_ner_head: Path) -> None:
    with pytest.raises(ValueError, match="onnx-int8"):
        load_classifier(e5_ner_head, backend="tensorrt")
