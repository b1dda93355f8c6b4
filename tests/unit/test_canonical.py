"""Canonical names are lemmas in uk/ru, the written form elsewhere."""

from __future__ import annotations

import pytest

from pipeline.nlp.canonical import canonical, lemmas
from pipeline.nlp.person_gender import person_genders


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
        ("easyJet", "ru", "easyJet"),  # the writer's capitals, letter by letter
        ("мРНК-вакцину", "uk", "мРНК-вакцина"),
        ("Майкла О'Лири", "ru", "Майкл О'Лири"),
        ("Герхарда Шрёдера", "ru", "Герхард Шрёдер"),  # ё only where it was written
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
        ("Санкт-Петербурге", "ru", "LOC", "Санкт-Петербург"),  # known as one word
        ("Соединенного Королевства", "ru", "LOC", "Соединенное Королевство"),  # е as written
        ("британского МИДа", "ru", "ORG", "британский МИД"),  # capitals as written
        ("ŠKODA", "ru", "ORG", "ŠKODA"),  # capitals of any alphabet
        ("ПАТ «Газпром»", "uk", "ORG", "ПАТ «Газпром»"),  # an abbreviation is not declined (ПАТи)
        ("НАТО", "uk", "ORG", "НАТО"),  # not НАТА
        ("британского МИД", "ru", "ORG", "британский МИД"),  # its adjective still agrees
        ("Сполученого Королівства", "uk", "LOC", "Сполучене Королівство"),  # gender agrees
        ("Стокгольмського арбітражу", "uk", "ORG", "Стокгольмський арбітраж"),  # singular
        ("Львова", "uk", "LOC", "Львів"),  # a place, not the surname Львов
        ("Києві", "uk", "LOC", "Київ"),  # not Кий
        ("Мінська", "uk", "LOC", "Мінськ"),  # a place is a noun, not мінська
        ("Украинская Фото Группа", "ru", "ORG", "Украинская Фото Группа"),  # nothing agrees
        ("Брекзита", "ru", "EVT", "Брекзит"),  # unknown, declined like a hard-stem noun
        ("Лахоре", "ru", "LOC", "Лахор"),
        ("СПбПУ", "ru", "ORG", "СПбПУ"),  # an abbreviation is not
        ("россии", "ru", "LOC", "Россия"),  # a place's name has its capital
        ("Центральної та Східної Європи", "uk", "LOC", "Центральна та Східна Європа"),
        ("Стэнфордского университета", "ru", "ORG", "Стэнфордский университет"),  # guessed adj
    ],
)
def test_other_names_are_noun_phrases_in_agreement(
    text: str, language: str, label: str, expected: str
) -> None:
    assert canonical(text, language, label) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Стівена Барклі", "uk", "Стівен Барклі"),  # a man's unknown surname: not femn Баркля
        ("Ричарда Гренелла", "ru", "Ричард Гренелл"),  # declined like a hard-stem noun
        ("Доминика Рааба", "ru", "Доминик Рааб"),  # whatever pymorphy guesses (indeclinable)
        ("Себастьяном Курцем", "ru", "Себастьян Курц"),  # not курец
        ("Медведчуку", "ru", "Медведчук"),  # unknown: pymorphy's guess, a surname's dative
        ("Зеленского", "ru", "Зеленский"),
        ("Гренелл", "ru", "Гренелл"),  # no singular reading but the nominative's: as written
        ("Барклі", "uk", "Барклі"),  # a foreign name ending in a vowel: not declined
        ("Александр Мясников", "ru", "Александр Мясников"),  # pymorphy: мясник in the plural
        ("Британцы", "ru", "Британцы"),  # a group stays a group, capital or not
        ("Фридрих фон Болен", "ru", "Фридрих фон Болен"),  # not болен → больной
        ("татьяна голикова", "ru", "Татьяна Голикова"),  # a person's name has its capitals
        ("московской", "ru", "московская"),  # an adjective does not
        ("Касим-Жомарта Токаєва", "uk", "Касим-Жомарт Токаєв"),
        ("Сергея Елкина", "ru", "Сергей Елкин"),  # not Ёлкин
        ("Ангелу Меркель", "uk", "Ангела Меркель"),  # a name's case over ангел's dative
        ("Песков", "ru", "Песков"),  # a surname, not песок's genitive plural
        ("Майку Помпео", "ru", "Майк Помпео"),  # not майка
        ("россиян", "ru", "россияне"),  # a group stays plural
        ("консерваторов", "ru", "консерваторы"),
        ("китайской", "ru", "китайский"),  # its adjective is its lemma
    ],
)
def test_person_names_agree_with_the_first_name_and_groups_stay_groups(
    text: str, language: str, expected: str
) -> None:
    assert canonical(text, language, "PER") == expected


def test_topic_lemmas_match_inflected_sentences() -> None:
    topic = lemmas("прямі переговори між Україною та Росією", "uk")
    sentence = lemmas("ми за початок прямих переговорів між Україною та Росією", "uk")
    assert {"прямий", "переговори", "україна", "росія"} <= topic & sentence


def genders_in(text: str, *names: str) -> list[str | None]:
    """person_genders of the first mention of each name in text."""
    mentions = [("PER", text, text.index(n), text.index(n) + len(n)) for n in names]
    return person_genders(mentions, "ru")


def test_the_article_tells_a_persons_gender_where_the_name_does_not() -> None:
    text = "Асия Биби была оправдана. Адвокат Асии Биби, который её защищал, уехал. Асию отпустили."
    genders = genders_in(text, "Асия Биби", "Асии Биби", "Асию")
    assert genders == ["femn", "femn", "femn"]  # after a genitive, который is the lawyer's
    assert canonical("Асии Биби", "ru") == "Асий Биби"  # the dictionary knows only Асий
    assert [canonical(n, "ru", "PER", "femn") for n in ("Асии Биби", "Асию")] == [
        "Асия Биби",
        "Асия",
    ]
    # A woman's noun in the same case right before the name votes too; one whose
    # case the name cannot share (Иван's neighbour) does not.
    assert genders_in("Суд оправдал христианку Асию Биби.", "Асию Биби") == ["femn"]
    assert genders_in("Приехала соседка Ивана Петрова.", "Ивана Петрова") == [None]


def test_a_verb_of_another_clause_or_a_possessors_noun_does_not_vote() -> None:
    text = (
        "По поручению В.В. Путина, началась вакцинация. Кабинет Терезы Мэй принял решение. "
        "Борис Джонсон заявил."
    )
    assert genders_in(text, "В.В. Путина", "Терезы Мэй", "Борис Джонсон") == [None, None, "masc"]
    assert person_genders([("ORG", "Газпром заявил.", 0, 7)], "ru") == [None]
