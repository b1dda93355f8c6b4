"""The e5 models in ONNX Runtime sessions: what serving runs, int8 by default.

Serving needs numpy and ONNX Runtime only; the files come from `pipeline.build.export`, built
on first use and cached. (Training runs the same heads in torch: `pipeline.train.model`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort

from pipeline.build.export import build_embedder_onnx, build_for_serving, build_onnx, onnx_cache_dir
from pipeline.build.graph import outputs
from pipeline.build.head_config import HeadConfig

BACKENDS = ("onnx-int8", "onnx-fp32")


class Model(Protocol):
    """What serving calls: token ids and attention mask in, logits or embeddings out (a
    tuple of arrays where the graph has several outputs: a span head's two parts)."""

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Any: ...


class OnnxModel:
    """An exported model in an ONNX Runtime CPU session."""

    def __init__(self, path: Path, outputs: Sequence[str], threads: int = 0) -> None:
        """outputs: the graph's outputs to return (`pipeline.build.graph.outputs`);
        threads: intra-op threads; 0 lets ONNX Runtime use every physical core."""
        self.outputs = list(outputs)
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

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> Any:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        result = self.session.run(self.outputs, feeds)
        return result[0] if len(result) == 1 else tuple(result)


@cache
def _register_shared_arena() -> None:
    """ONNX Runtime's process-wide CPU arena, used by sessions that ask for env allocators."""
    memory = ort.OrtMemoryInfo(
        "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
    )
    ort.create_and_register_allocator(memory, ort.OrtArenaCfg(0, -1, -1, -1))


def load_classifier(
    head_dir: Path, base_dir: Path | None = None, backend: str = "onnx-int8", threads: int = 0
) -> Model:
    """The head for inference on the chosen backend."""
    _check(backend)
    path = build_onnx(head_dir, onnx_cache_dir(base_dir), base_dir, backend == "onnx-int8")
    return OnnxModel(path, outputs(HeadConfig.read(head_dir).task), threads)


def load_embedder(
    base_dir: Path | None = None, backend: str = "onnx-int8", threads: int = 0
) -> Model:
    """e5's sentence embedder on the chosen backend."""
    _check(backend)
    path = build_embedder_onnx(onnx_cache_dir(base_dir), base_dir, backend == "onnx-int8")
    return OnnxModel(path, outputs(None), threads)


def prepare(
    head_dirs: Sequence[Path], base_dir: Path | None = None, backend: str = "onnx-int8"
) -> None:
    """Build (or find cached) every file a worker on this backend loads, without loading them."""
    _check(backend)
    build_for_serving(head_dirs, base_dir, backend == "onnx-int8")


def _check(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
