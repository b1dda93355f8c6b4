"""Malformed article messages of many kinds, from a seeded generator (reproducible)."""

from __future__ import annotations

import random

import orjson

from pipeline.contracts import InvalidArticle, decode_article

WRONG_TYPES = {
    "id": [12345, None, [], {"id": "x"}, "", "   ", "x" * 513],
    "body": [42, None, ["a", "b"], {"text": "x"}, "", " \n\t "],
    "title": [7, ["t"], {"t": 1}],
    "language": [42, "Ukrainian", "UK", ""],
    "targets": ["topic", [1], [{"start": -1, "end": 2}], [{"start": 1}], ["t"] * 65],
    "published_at": ["yesterday", 20261125, "2026-13-45"],
}
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\xc0\xaf"]


def _valid(rng: random.Random, key: str) -> dict:
    words = ["Київ", "Astana", "Москва", "talks", "переговори", "ceasefire"]
    return {"id": key, "title": "Новини", "body": " ".join(rng.choices(words, k=30))}


def _truncated(rng: random.Random, key: str, max_body: int) -> bytes:
    raw = orjson.dumps(_valid(rng, key))
    return raw[: rng.randrange(1, len(raw) - 1)]


def _wrong_type(rng: random.Random, key: str, max_body: int) -> bytes:
    article = _valid(rng, key)
    name = rng.choice(sorted(WRONG_TYPES))
    article[name] = rng.choice(WRONG_TYPES[name])
    return orjson.dumps(article)


def _missing(rng: random.Random, key: str, max_body: int) -> bytes:
    article = _valid(rng, key)
    for name in rng.choice([["id"], ["body"], ["id", "body"]]):
        del article[name]
    return orjson.dumps(article)


def _invalid_utf8(rng: random.Random, key: str, max_body: int) -> bytes:
    raw = orjson.dumps(_valid(rng, key))
    at = raw.index(b'"body"') + rng.randrange(9, 40)
    return raw[:at] + rng.choice(INVALID_UTF8) + raw[at:]


def _huge(rng: random.Random, key: str, max_body: int) -> bytes:
    article = _valid(rng, key)
    article["body"] = rng.choice("ab ж") * (max_body + rng.randrange(1, 100_000))
    return orjson.dumps(article)


def _not_an_object(rng: random.Random, key: str, max_body: int) -> bytes:
    return rng.choice([b"[]", b"[1, 2]", b"42", b'"text"', b"null", b"true", b"   ", b"\x00"])


def _nested(rng: random.Random, key: str, max_body: int) -> bytes:
    depth = rng.randrange(600, 3000)  # past orjson's recursion limit for the deeper ones
    garbage = b"[" * depth + b"]" * depth
    if rng.random() < 0.5:
        return b'{"id": "%s", "body": %s}' % (key.encode(), garbage)
    return b'{"id": "%s", "body": "x", "extra": %s' % (key.encode(), garbage)  # no closing }


def _empty(rng: random.Random, key: str, max_body: int) -> bytes:
    return b""


KINDS = {
    "truncated JSON": _truncated,
    "wrong types": _wrong_type,
    "missing fields": _missing,
    "invalid UTF-8": _invalid_utf8,
    "huge strings": _huge,
    "not an object": _not_an_object,
    "nested garbage": _nested,
    "empty value": _empty,
}


def malformed(count: int, max_body: int, seed: int) -> list[tuple[str, bytes, bytes]]:
    """(kind, key, value) for `count` messages the pipeline must refuse, every kind in turn."""
    rng = random.Random(seed)
    kinds = list(KINDS.items())
    out = []
    for i in range(count):
        kind, make = kinds[i % len(kinds)]
        key = f"bad-{i:05d}"
        value = make(rng, key, max_body)
        try:
            decode_article(value, max_body)
        except InvalidArticle:
            out.append((kind, key.encode(), value))
        else:  # the generator must only make invalid messages
            raise AssertionError(f"{kind} produced a valid article: {value[:200]!r}")
    return out
