"""Made-up labelled examples for tests that train real (tiny) heads on the e5 base."""

from __future__ import annotations

from pipeline.train.ner_data import NerExample
from pipeline.train.stance_data import StanceExample


def example(text: str, *mentions: tuple[str, str], lang: str = "uk") -> NerExample:
    spans = tuple(sorted((text.index(m), text.index(m) + len(m), label) for m, label in mentions))
    return NerExample(text, spans, lang, "synthetic")


NER_EXAMPLES = [
    example(
        "Президент Касим-Жомарт Токаєв прибув до Астани.",
        ("Касим-Жомарт Токаєв", "PER"),
        ("Астани", "LOC"),
    ),
    example(
        "Зеленський і Путін можуть зустрітися в Казахстані.",
        ("Зеленський", "PER"),
        ("Путін", "PER"),
        ("Казахстані", "LOC"),
    ),
    example("НАТО провело саміт у Вільнюсі.", ("НАТО", "ORG"), ("Вільнюсі", "LOC")),
    example(
        "Reuters reported that Tokayev met Zelensky in Astana.",
        ("Reuters", "ORG"),
        ("Tokayev", "PER"),
        ("Zelensky", "PER"),
        ("Astana", "LOC"),
        lang="en",
    ),
    example(
        "Путин прилетел в Астану на встречу с Токаевым.",
        ("Путин", "PER"),
        ("Астану", "LOC"),
        ("Токаевым", "PER"),
        lang="ru",
    ),
    example("Без сутностей у цьому реченні."),
]

STANCE_EXAMPLES = [
    StanceExample("Токаєв підтримав переговори.", "Токаєв", "favor", "uk", "synthetic", (0, 6)),
    StanceExample("Критики засудили Токаєва.", "Токаєва", "against", "uk", "synthetic", None),
    StanceExample("Токаев прибыл в Москву.", "Токаев", "neutral", "ru", "synthetic", (0, 6)),
    StanceExample("Critics praised the talks.", "the talks", "favor", "en", "synthetic", None),
    StanceExample("Путин осудил Байдена.", "Байдена", "against", "ru", "synthetic", (12, 19)),
    StanceExample("Путин осудил Байдена.", "Путин", "neutral", "ru", "synthetic", (0, 5)),
    StanceExample(  # a teacher's judgement, as `teacher:FILE` reads it
        "Зеленський похвалив Туск.", "Туск", "favor", "uk", "teacher", (20, 24), (0.7, 0.1, 0.2)
    ),
]
