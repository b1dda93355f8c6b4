"""ONNX Runtime backend for the e5 heads and the e5 embedder: each exported once, int8 by default.

Serving then runs ONNX Runtime's integer matmuls instead of torch's fp32 ones, and needs no
torch at all once the exports are cached (torch is imported only to export, or for the torch
backend). Exports are cached by a digest of everything they are built from, so a retrained
head or a new base is exported again, and an unchanged one is read straight from the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

from pipeline.nlp.e5.convert import MARKER_FILE, default_cache_dir, ensure_base_model
from pipeline.nlp.e5.head_config import HEAD_FILE, WEIGHTS_FILE, HeadConfig

BACKENDS = ("torch", "onnx-fp32", "onnx-int8")
OPSET = 17
STALE_DAYS = 30  # an export unused this long is deleted when another one is built
# Per-channel int8 weights of every MatMul and Gather, the 250k×384 word embedding included:
# a quarter of the fp32 size, and per-channel scales keep the tags closer to fp32 than one
# scale per tensor (measured on held-out NER sentences).
QUANTIZATION = {"weight_type": QuantType.QInt8, "per_channel": True}


class Model(Protocol):
    """What serving calls: token ids and attention mask in, logits or embeddings out."""

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class OnnxModel:
    """An exported model in an ONNX Runtime CPU session."""

    def __init__(self, path: Path, threads: int = 0, output: str = "logits") -> None:
        """threads: intra-op threads; 0 lets ONNX Runtime use every physical core."""
        self.output = output
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
        # Idle workers sleep instead of spinning: the CPU is shared with the other head, the
        # topic model and the consumer (faster here too when the cores are busy).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # One memory arena for every session of the process: each arena keeps its peak, and
        # three of them held 2.0 GB where a shared one holds 0.9 GB, at the same speed.
        _register_shared_arena()
        options.add_session_config_entry("session.use_env_allocators", "1")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        (result,) = self.session.run([self.output], feeds)
        return result


@cache
def _register_shared_arena() -> None:
    """ONNX Runtime's process-wide CPU arena, used by sessions that ask for env allocators."""
    memory = ort.OrtMemoryInfo(
        "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
    )
    ort.create_and_register_allocator(memory, ort.OrtArenaCfg(0, -1, -1, -1))


def load_classifier(
    head_dir: Path, base_dir: Path | None = None, backend: str = "torch", threads: int = 0
) -> Model:
    """The head for inference on the chosen backend."""
    _check(backend)
    if backend == "torch":
        from pipeline.nlp.e5.model import E5Classifier, NumpyCall

        return NumpyCall(E5Classifier.load(head_dir, base_dir).for_inference())
    path = build_onnx(head_dir, onnx_cache_dir(base_dir), base_dir, backend == "onnx-int8")
    return OnnxModel(path, threads)


def load_embedder(base_dir: Path | None = None, backend: str = "torch", threads: int = 0) -> Model:
    """e5's sentence embedder on the chosen backend."""
    _check(backend)
    if backend == "torch":
        from pipeline.nlp.e5.model import E5Embedder, NumpyCall

        return NumpyCall(E5Embedder(base_dir))
    path = build_embedder_onnx(onnx_cache_dir(base_dir), base_dir, backend == "onnx-int8")
    return OnnxModel(path, threads, output="embeddings")


def _check(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def onnx_cache_dir(base_dir: Path | None = None) -> Path:
    """Exports are kept beside the base they were built on."""
    return Path(base_dir or default_cache_dir()).parent / "e5-onnx"


def build_onnx(
    head_dir: Path, cache_dir: Path, base_dir: Path | None = None, quantize: bool = True
) -> Path:
    """The head merged into its base as one ONNX file under cache_dir."""

    def merged_head() -> Any:
        from pipeline.nlp.e5.model import E5Classifier

        return E5Classifier.load(head_dir, base_dir).for_inference()

    config = HeadConfig.read(head_dir)
    sources = [head_dir / WEIGHTS_FILE, head_dir / HEAD_FILE]
    output = ("logits", config.task == "token")
    # the feed-forward output projections the head keeps fp32, by their names in the export
    fp32_nodes = [
        f"/encoder/encoder/layer.{i}/output/dense/MatMul"
        for i in range(config.int8_fp32_ffn_layers)
    ]
    return _build(
        cache_dir, head_dir.name, sources, merged_head, output, base_dir, quantize, fp32_nodes
    )


def build_embedder_onnx(
    cache_dir: Path, base_dir: Path | None = None, quantize: bool = True
) -> Path:
    """The bare base with e5's pooling as one ONNX file under cache_dir."""

    def embedder() -> Any:
        from pipeline.nlp.e5.model import E5Embedder

        return E5Embedder(base_dir)

    return _build(cache_dir, "embedder", [], embedder, ("embeddings", False), base_dir, quantize)


def _build(
    cache_dir: Path,
    name: str,
    sources: list[Path],
    make_model: Callable[[], Any],
    output: tuple[str, bool],
    base_dir: Path | None,
    quantize: bool,
    fp32_nodes: list[str] | None = None,
) -> Path:
    """Export (and quantise) unless a file of the same digest is there; built in a temporary
    folder and renamed into place, so readers never see half a model. output: the output's
    name and whether it has one row per token; fp32_nodes: MatMuls that int8 leaves alone."""
    kind = "int8" if quantize else "fp32"
    digest = _digest([*sources, ensure_base_model(base_dir) / MARKER_FILE], quantize)
    target = cache_dir / f"{name}-{digest}-{kind}.onnx"
    if target.exists():
        with contextlib.suppress(OSError):  # a read-only cache is used as it is
            os.utime(target)  # in use: not stale
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.stem}-", dir=cache_dir))
    try:
        built = _export(make_model(), staging / "fp32.onnx", *output)
        if quantize:
            quantize_dynamic(
                built, staging / "int8.onnx", nodes_to_exclude=fp32_nodes, **QUANTIZATION
            )
            built = staging / "int8.onnx"
        os.replace(built, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune(cache_dir)
    return target


def _prune(cache_dir: Path) -> None:
    """Delete exports no process has loaded for STALE_DAYS: each retrained head or new release
    leaves its earlier exports (118 to 470 MB each) behind."""
    cutoff = time.time() - STALE_DAYS * 86_400
    for path in cache_dir.glob("*.onnx"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if path.stat().st_mtime < cutoff:
                path.unlink()


def _digest(sources: list[Path], quantize: bool) -> str:
    """Of the files a model is built from (the base's source marker among them) and the
    export recipe."""
    digest = hashlib.sha256(f"opset={OPSET} quantize={quantize and QUANTIZATION}".encode())
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _export(model: Any, path: Path, output: str, per_token: bool) -> Path:
    """The TorchScript exporter: still in torch 2.15, needs no onnxscript, and traces the
    attention-mask arithmetic into plain ops. Traced on a padded batch of two so that no
    shape or all-ones mask is baked in."""
    import torch

    input_ids = torch.tensor([[0, 581, 6, 2, 1], [0, 581, 6, 5, 2]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    axes = {0: "batch", 1: "tokens"}
    output_axes = axes if per_token else {0: "batch"}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # legacy exporter
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # constant 1.0
        torch.onnx.export(
            model,
            (input_ids, attention_mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=[output],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, output: output_axes},
            opset_version=OPSET,
            dynamo=False,
        )
    return path
