"""Sentences and word boundaries, with exact character offsets into the original text."""

from __future__ import annotations

import re

# A sentence ends at . ! ? … (plus closing quotes) followed by space and an opening capital,
# or at a line break.
_BOUNDARY = re.compile(
    r"(?<=[.!?…])[\"'»”)]*\s+(?=[\"'«„“(\-–—]*[^\W\d_a-zа-яёіїєґ])|\s*\n\s*",
)
_LAST_WORD = re.compile(r"(?<![\w'’ʼ-])(\w+) ?\.$")  # "Б." or, tokenised, "Б ."
# A full stop after these does not end a sentence: initials (one letter) and abbreviations
# that precede names (Т. Мэй, им. Гамалеи, Mr. Smith).
_ABBREVIATIONS = frozenset(
    [
        "им",
        "ім",
        "ул",
        "вул",
        "пл",
        "просп",
        "г",
        "м",
        "св",
        "проф",
        "акад",
        "ген",
        "див",
        "см",
        "тов",
        "пан",
        "гр",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "prof",
        "gen",
        "col",
        "lt",
        "sgt",
        "rev",
        "vs",
        "no",
    ]
)
_JOINERS = "'’ʼ-‐."
QUOTES = (("«", "»"), ("„", "“"), ("“", "”"), ('"', '"'))  # (opening, closing) pairs
_DOTTED_END = re.compile(r"(?<![\w.])(?:\w\.)+\w$")  # U.S, U.N, S.A (before the final dot)


def _ends_with_abbreviation(text: str, end: int) -> bool:
    word = _LAST_WORD.search(text, max(0, end - 12), end)
    return word is not None and (len(word.group(1)) == 1 or word.group(1).lower() in _ABBREVIATIONS)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed."""
    spans, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        ends_line = "\n" in boundary.group()
        if not ends_line and _ends_with_abbreviation(text, boundary.start()):
            continue
        spans.append((start, boundary.start()))
        start = boundary.end()
    spans.append((start, len(text)))
    return [trimmed for s, e in spans if (trimmed := trim(text, s, e))[0] < trimmed[1]]


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) less the whitespace at its edges."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_word_char(text: str, i: int) -> bool:
    char = text[i]
    if char.isalnum() or char == "_":
        return True
    # An apostrophe, a hyphen or a dot joins letters into one word (перемир'я, Жомарт-Токаєв,
    # NEWSru.com, Яндекс.Новости).
    return (
        char in _JOINERS
        and 0 < i < len(text) - 1
        and text[i - 1].isalnum()
        and text[i + 1].isalnum()
    )


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole words and trim non-word edges: a span never cuts a word.

    Then a quote opened inside the span takes its closing partner along (НАК «Нафтогаз
    України»), one closed inside takes its opening partner, and a dotted abbreviation keeps
    its final dot (U.S.), as the NER corpora write these names.
    """
    while start < end and not _is_word_char(text, start):
        start += 1
    while end > start and not _is_word_char(text, end - 1):
        end -= 1
    if start == end:
        return start, end
    while start > 0 and _is_word_char(text, start - 1):
        start -= 1
    while end < len(text) and _is_word_char(text, end):
        end += 1
    if end < len(text) and text[end] == "." and _DOTTED_END.search(text, start, end):
        end += 1
    return _pair_quotes(text, start, end)


def _pair_quotes(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend the span over the partners of quotes left open or closed inside it, stepping
    over spaces (token-per-space corpora write « Рать »)."""
    for opening, closing in QUOTES:
        inner = text[start:end]
        if opening == closing:  # straight quotes: an odd one takes the next, else the previous
            if inner.count(opening) % 2:
                if (found := _next_past_spaces(text, end, closing)) is not None:
                    end = found + 1
                elif (found := _previous_past_spaces(text, start, opening)) is not None:
                    start = found
            continue
        depth = inner.count(opening) - inner.count(closing)
        while depth > 0 and (found := _next_past_spaces(text, end, closing)) is not None:
            end, depth = found + 1, depth - 1
        while depth < 0 and (found := _previous_past_spaces(text, start, opening)) is not None:
            start, depth = found, depth + 1
    return start, end


def _next_past_spaces(text: str, i: int, char: str) -> int | None:
    while i < len(text) and text[i] == " ":
        i += 1
    return i if i < len(text) and text[i] == char else None


def _previous_past_spaces(text: str, i: int, char: str) -> int | None:
    while i > 0 and text[i - 1] == " ":
        i -= 1
    return i - 1 if i > 0 and text[i - 1] == char else None
