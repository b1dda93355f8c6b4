"""Sentence spans and word snapping keep exact offsets and never cut a word."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.nlp.text import sentences, snap_to_words

SEED_LIKE = (
    'Про це заявив президент країни Касим-Жомарт Токаєв, пише Tengrinews. "Казахстан не є '
    "посередником\", - сказав Токаєв.\n\nБез перемир'я. Mr. Smith went to Washington! Ok?"
)


def test_sentences_have_exact_offsets() -> None:
    spans = sentences(SEED_LIKE)
    texts = [SEED_LIKE[s:e] for s, e in spans]
    assert texts[0] == "Про це заявив президент країни Касим-Жомарт Токаєв, пише Tengrinews."
    assert texts[1].startswith('"Казахстан не є посередником"')
    assert "Без перемир'я." in texts
    assert texts[-1] == "Ok?"
    assert all(t == t.strip() and t for t in texts)


def test_initials_and_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Прем'єр Т. Мей виступила. Інститут ім. Гамалеї відповів. Mr. Smith agreed. "
        "J. R. R. Tolkien wrote. Вірш Б . Лепкого (tokenised text) . Кінець."
    )
    assert [text[s:e] for s, e in sentences(text)] == [
        "Прем'єр Т. Мей виступила.",
        "Інститут ім. Гамалеї відповів.",
        "Mr. Smith agreed.",
        "J. R. R. Tolkien wrote.",
        "Вірш Б . Лепкого (tokenised text) .",
        "Кінець.",
    ]


def test_snapping_widens_to_whole_words() -> None:
    text = "переговори Володимира Зеленського і перемир'я"
    start = text.index("лодимира")
    assert text[slice(*snap_to_words(text, start, start + 5))] == "Володимира"
    start = text.index("мир'я")
    assert text[slice(*snap_to_words(text, start, start + 2))] == "перемир'я"
    assert text[slice(*snap_to_words(text, 10, 12))] == "Володимира"  # " В" → the word


@pytest.mark.parametrize(
    ("text", "cut", "name"),
    [
        ("у СГПП « Рать » працює", "СГПП « Ра", "СГПП « Рать »"),
        (
            "АТ « АГ « Солодко і Партнери » » тут",
            "АТ « АГ « Солодко і Партнери",
            "АТ « АГ « Солодко і Партнери » »",
        ),
        ('заявив НАК "Нафтогаз України" вчора', 'НАК "Нафтогаз Укр', 'НАК "Нафтогаз України"'),
        ("журнал „Театр“ і", "журнал „Теа", "журнал „Театр“"),
        ("Рать » і", "Рать »", "Рать"),  # no partner: trimmed as before
        ("in the U.S. market", "U.S", "U.S."),
        ("the US. Then", "US", "US"),
        ("пишет NEWSru.com.", "NEWSru", "NEWSru.com"),  # a dot inside a word joins it
        ("сервис Яндекс.Новости", "Яндекс", "Яндекс.Новости"),
    ],
)
def test_snapping_keeps_quoted_names_and_dotted_abbreviations_whole(
    text: str, cut: str, name: str
) -> None:
    start = text.index(cut)
    assert text[slice(*snap_to_words(text, start, start + len(cut)))] == name


@given(st.text(alphabet="аб' -.Zz«»\"\n", max_size=40), st.integers(0, 40), st.integers(0, 40))
def test_snapped_spans_never_cut_a_word(text: str, a: int, b: int) -> None:
    start, end = sorted((min(a, len(text)), min(b, len(text))))
    s, e = snap_to_words(text, start, end)
    assert 0 <= s <= e <= len(text)
    if s < e:
        assert not (s > 0 and text[s - 1].isalnum() and text[s].isalnum())
        assert not (e < len(text) and text[e - 1].isalnum() and text[e].isalnum())
        # edges are letters, or the partner of a quote inside, or an abbreviation's dot
        assert text[s].isalnum() or (text[s] in '«"' and text[s + 1 : e].count(text[s]) < 2)
        assert text[e - 1].isalnum() or text[e - 1] in '»".'
        assert text[s:e].strip() == text[s:e]
