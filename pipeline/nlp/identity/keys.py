"""Spelling-independent keys of names: one key for Зеленський, Зеленский, Zelensky, Zelenskyy.

A name is romanised character by character (anyascii, any script), then spelling variants the
Ukrainian, Russian and English renderings of one name differ by are folded: y/j/i, kh/h/g
(Ukrainian writes a foreign H as Г, Russian as Х), w/v, c/k, doubled letters, ie/e (є, е).
Keys only match names; they are never shown: ids use `slug`.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

_NOT_LETTER = re.compile(r"[^a-z0-9 ]+")
_FOLDS = (
    (re.compile(r"[yj]"), "i"),
    (re.compile(r"kh|g"), "h"),
    (re.compile(r"w"), "v"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"c(?!h)|q"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"([a-z])\1+"), r"\1"),
    (re.compile(r"ie"), "e"),
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z]")


def romanised(text: str) -> str:
    """Lower-case ASCII words of a name: quotes, apostrophes and soft signs dropped."""
    ascii_text = anyascii(unicodedata.normalize("NFC", text)).lower().replace("-", " ")
    return " ".join(_NOT_LETTER.sub("", ascii_text).split())


def match_key(text: str) -> str:
    """The key two spellings of one name share."""
    key = romanised(text)
    for pattern, replacement in _FOLDS:
        key = pattern.sub(replacement, key)
    return key


def slug(text: str) -> str:
    """The readable part of an id: romanised words joined by hyphens (Theresa May →
    theresa-may)."""
    return romanised(text).replace(" ", "-")


def script(text: str) -> str:
    """'latin', 'cyrillic' or 'other': the resolver joins names across the first two only."""
    letters = [c for c in text if c.isalpha()]
    if letters and all(_CYRILLIC.match(c) for c in letters):
        return "cyrillic"
    if letters and all(_LATIN.match(anyascii(c)[:1]) and ord(c) < 0x250 for c in letters):
        return "latin"
    return "other"
