"""The ONNX files serving loads: built once from the base and a head, int8 by default, cached.

Exports are cached by a digest of everything they are built from, so a retrained head or a
new base is exported again, and an unchanged one is read straight from the cache. Each is
built in a temporary folder and renamed into place, so readers never see half a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from pipeline.build.convert import MARKER_FILE, default_cache_dir, ensure_base_model
from pipeline.build.graph import OPSET, encoder_graph, ffn_output_matmul
from pipeline.build.head_config import HEAD_FILE, WEIGHTS_FILE, HeadConfig

GRAPH_VERSION = 2  # 1: torch's TorchScript export; 2: written by pipeline.build.graph
STALE_DAYS = 30  # an export unused this long is deleted when another one is built
# Per-channel int8 weights of every MatMul and Gather, the 250k×384 word embedding included:
# a quarter of the fp32 size, and per-channel scales keep the tags closer to fp32 than one
# scale per tensor (measured on held-out NER sentences).
QUANTIZATION = {"weight_type": QuantType.QInt8, "per_channel": True}


def onnx_cache_dir(base_dir: Path | None = None) -> Path:
    """Exports are kept beside the base they were built on."""
    return Path(base_dir or default_cache_dir()).parent / "e5-onnx"


def build_onnx(
    head_dir: Path, cache_dir: Path, base_dir: Path | None = None, quantize: bool = True
) -> Path:
    """The head merged into its base as one ONNX file under cache_dir."""
    config = HeadConfig.read(head_dir)
    # the feed-forward output projections the head keeps fp32
    fp32_nodes = [ffn_output_matmul(i) for i in range(config.int8_fp32_ffn_layers)]
    return _build(
        cache_dir, head_dir, base_dir, quantize, fp32_nodes, reduce_range=config.int8_reduce_range
    )


def build_embedder_onnx(
    cache_dir: Path, base_dir: Path | None = None, quantize: bool = True
) -> Path:
    """The bare base with e5's pooling as one ONNX file under cache_dir."""
    return _build(cache_dir, None, base_dir, quantize)


def build_for_serving(
    head_dirs: Sequence[Path], base_dir: Path | None = None, quantize: bool = True
) -> list[Path]:
    """Every file a worker loads: each head's graph and the topic embedder's (cache hits when
    they are built already), so that a first start can be prepared with a progress message."""
    cache_dir = onnx_cache_dir(base_dir)
    heads = [build_onnx(head, cache_dir, base_dir, quantize) for head in head_dirs]
    return [*heads, build_embedder_onnx(cache_dir, base_dir, quantize)]


def _build(
    cache_dir: Path,
    head_dir: Path | None,
    base_dir: Path | None,
    quantize: bool,
    fp32_nodes: Sequence[str] = (),
    *,
    reduce_range: bool = False,
) -> Path:
    """Write (and quantise) unless a file of the same digest is there. head_dir: None for the
    embedder; fp32_nodes: MatMuls that int8 leaves alone;
    reduce_range: 7-bit weights (HeadConfig.int8_reduce_range)."""
    base = ensure_base_model(base_dir)
    name = head_dir.name if head_dir else "embedder"
    sources = [head_dir / WEIGHTS_FILE, head_dir / HEAD_FILE] if head_dir else []
    kind = "int8" if quantize else "fp32"
    target = cache_dir / f"{name}-{_digest([*sources, base / MARKER_FILE], quantize)}-{kind}.onnx"
    if target.exists():
        with contextlib.suppress(OSError):  # a read-only cache is used as it is
            os.utime(target)  # in use: not stale
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.stem}-", dir=cache_dir))
    try:
        built = staging / "fp32.onnx"
        onnx.save(encoder_graph(base, head_dir), built)
        if quantize:
            with _quiet_quantiser():
                quantize_dynamic(
                    built,
                    staging / "int8.onnx",
                    nodes_to_exclude=list(fp32_nodes),
                    reduce_range=reduce_range,
                    **QUANTIZATION,
                )
            built = staging / "int8.onnx"
        os.replace(built, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune(cache_dir)
    return target


@contextlib.contextmanager
def _quiet_quantiser() -> Iterator[None]:
    """The quantiser logs, on the root logger, advice meant for image models (shape inference
    "pre-processing"); a first start would print it three times."""

    def advice(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")

    root = logging.getLogger()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


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
    recipe."""
    recipe = f"graph={GRAPH_VERSION} opset={OPSET} quantize={quantize and QUANTIZATION}"
    digest = hashlib.sha256(recipe.encode())
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
