"""Canonical names are lemmas in uk/ru, the written form elsewhere."""

from __future__ import annotations

import pytest

from pipeline.nlp.canonical import canonical, lemmas


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Трампа", "uk", "Трамп"),
        ("Володимира Зеленського", "uk", "Володимир Зеленський"),
        ("Росією", "uk", "Росія"),
        ("Касим-Жомарт Токаєв", "uk", "Касим-Жомарт Токаєв"),
        ("Нью-Йорка", "ru", "Нью-Йорк"),
        ("Ростова-на-Дону", "ru", "Ростов-на-Дону"),
        ("ООН", "uk", "ООН"),
        ("Путина", "ru", "Путин"),
        ("Казахстане", "ru", "Казахстан"),
        ("Trump's", "en", "Trump"),
        ("NATO", "en", "NATO"),
    ],
)
def test_canonical(text: str, language: str, expected: str) -> None:
    assert canonical(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "label", "expected"),
    [
        ("Саудівській Аравії", "uk", "LOC", "Саудівська Аравія"),
        ("Верховної Ради України", "uk", "ORG", "Верховна Рада України"),
        ("Сполучених Штатів Америки", "uk", "LOC", "Сполучені Штати Америки"),
        ("Міністерства закордонних справ", "uk", "ORG", "Міністерство закордонних справ"),
        ("Государственной думы", "ru", "ORG", "Государственная дума"),
        ("Fox News", "uk", "ORG", "Fox News"),
    ],
)
def test_other_names_are_noun_phrases_in_agreement(
    text: str, language: str, label: str, expected: str
) -> None:
    assert canonical(text, language, label) == expected


def test_topic_lemmas_match_inflected_sentences() -> None:
    topic = lemmas("прямі переговори між Україною та Росією", "uk")
    sentence = lemmas("ми за початок прямих переговорів між Україною та Росією", "uk")
    assert {"прямий", "переговори", "україна", "росія"} <= topic & sentence
