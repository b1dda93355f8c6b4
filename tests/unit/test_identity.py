"""Entity identity: name keys, in-article joining, cross-lingual ids, the alias table."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from pipeline.contracts import load_schema
from pipeline.nlp.canonical import canonical
from pipeline.nlp.identity import AliasTableError, Mention, load_aliases, load_resolver
from pipeline.nlp.identity.aliases import ALIASES_FILE
from pipeline.nlp.identity.keys import match_key
from pipeline.train.identity import b_cubed


def ids(language: str, *mentions: tuple[str, str]) -> list[str]:
    """Entity ids of one article's mentions, given as (label, surface) in reading order."""
    found = [Mention(label, canonical(text, language, label)) for label, text in mentions]
    return load_resolver().resolve(found, language)


@pytest.mark.parametrize(
    "spellings",
    [
        ("Зеленський", "Зеленский", "Zelensky", "Zelenskyy", "Zelenskiy"),
        ("Токаєв", "Токаев", "Tokayev"),
        ("Гарріс", "Харрис", "Harris"),
        ("Мей", "Мэй"),
    ],
)
def test_one_key_for_the_spellings_of_one_name(spellings: tuple[str, ...]) -> None:
    assert len({match_key(s) for s in spellings}) == 1


def test_partial_and_inflected_names_join_the_fullest_form_in_an_article() -> None:
    found = ids(
        "uk",
        ("PER", "Володимира Зеленського"),
        ("PER", "Зеленський"),
        ("PER", "В. Зеленський"),
        ("PER", "Зеленським"),
        ("PER", "Касим-Жомарт Токаєв"),
        ("PER", "Токаєва"),
    )
    assert len(set(found[:4])) == 1 and len(set(found[4:])) == 1
    assert found[0] != found[4]


def test_the_same_people_and_places_get_the_same_ids_in_uk_ru_and_en() -> None:
    uk = ids("uk", ("PER", "Володимир Зеленський"), ("LOC", "Києва"), ("PER", "Дональдом Трампом"))
    ru = ids("ru", ("PER", "Владимир Зеленский"), ("LOC", "Киев"), ("PER", "Дональдом Трампом"))
    en = ids("en", ("PER", "Volodymyr Zelensky"), ("LOC", "Kyiv"), ("PER", "Donald Trump"))
    assert uk == ru == en == ["PER:volodymyr-zelensky", "LOC:kyiv", "PER:donald-trump"]
    countries = [ids(lang, ("LOC", name))[0] for lang, name in
                 [("uk", "Сполучені Штати"), ("uk", "США"), ("ru", "США"), ("en", "USA"),
                  ("de", "Vereinigte Staaten")]]  # fmt: skip
    assert set(countries) == {"LOC:united-states"}


def test_a_lone_word_read_as_a_first_name_joins_the_one_full_name_it_is_the_surname_of() -> None:
    found = ids("ru", ("PER", "Джордж Мартин"), ("PER", "Мартин"))  # Мартин: a first name too
    assert found[0] == found[1]
    assert (
        len(set(ids("ru", ("PER", "Джордж Мартин"), ("PER", "Рики Мартин"), ("PER", "Мартин"))))
        == 3
    )


def test_a_surname_shared_by_two_full_names_joins_neither() -> None:
    found = ids(
        "uk", ("PER", "Юлія Тимошенко"), ("PER", "Володимир Тимошенко"), ("PER", "Тимошенко")
    )
    assert len(set(found)) == 3


def test_two_people_with_one_surname_in_two_articles_keep_different_ids() -> None:
    (boris,) = ids("en", ("PER", "Boris Johnson"))
    (dwayne,) = ids("en", ("PER", "Dwayne Johnson"))
    (other_may,) = ids("uk", ("PER", "Джонатан Мей"))
    (theresa,) = ids("uk", ("PER", "Тереза Мей"))
    assert boris != dwayne and other_may != theresa


def test_feminine_and_masculine_forms_of_a_surname_are_different_people() -> None:
    wife, husband = ids("ru", ("PER", "Навальной"), ("PER", "Навальным"))
    assert wife != husband
    assert canonical("Навальной", "ru", "PER") == "Навальная"


def test_an_acronym_joins_the_name_it_abbreviates_in_the_article() -> None:
    found = ids("uk", ("ORG", "Організація Об'єднаних Націй"), ("ORG", "ООН"), ("ORG", "НАТО"))
    assert found[0] == found[1] != found[2]


def test_a_name_joins_the_one_longer_name_that_adds_a_legal_form_or_a_place() -> None:
    found = ids(
        "uk",
        ("ORG", "НАК «Нафтогаз України»"),
        ("ORG", "Нафтогаз"),
        ("ORG", "Газпром"),
        ("ORG", "Газпром нафта"),  # another company, not Газпром in a place
    )
    assert found[0] == found[1] != found[2] != found[3]
    # The id is the core name's, the same as in an article that gives only that.
    assert found[0] == ids("uk", ("ORG", "Нафтогаз"))[0]
    assert ids("en", ("ORG", "Nord Stream 2 AG")) == ids("en", ("ORG", "Nord Stream 2"))


def test_a_script_the_resolver_does_not_join_keeps_a_per_language_id() -> None:
    greek, chinese = ids("el", ("LOC", "Ελλάδα")), ids("zh", ("PER", "习近平"))
    assert greek[0].startswith("LOC:el:") and chinese[0].startswith("PER:zh:")


def test_ids_are_readable_and_match_the_schema() -> None:
    pattern = load_schema("entity")["$defs"]["entity_id"]["pattern"]
    for entity_id in ids(
        "uk", ("PER", "Володимир Зеленський"), ("ORG", "УНІАН"), ("LOC", "Ελλάδα")
    ):
        assert re.match(pattern, entity_id), entity_id


def test_the_shipped_alias_table_loads_and_a_broken_one_is_a_clear_error(tmp_path: Path) -> None:
    table = load_aliases()
    assert table.lookup("LOC", match_key("Київ")) == "LOC:kyiv"
    with pytest.raises(AliasTableError, match="missing"):
        load_aliases(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 1, "keys": ', encoding="utf-8")
    with pytest.raises(AliasTableError, match="not valid JSON"):
        load_aliases(broken)
    raw = orjson.loads(ALIASES_FILE.read_bytes())
    raw["keys"]["PER"]["someone"] = "PER:nobody-named"
    wrong = tmp_path / "wrong.json"
    wrong.write_bytes(orjson.dumps(raw))
    with pytest.raises(AliasTableError, match="PER:nobody-named"):
        load_aliases(wrong)


def test_b_cubed_scores_splits_and_merges() -> None:
    gold = ["a", "a", "b", "b"]
    assert b_cubed(["x", "x", "y", "y"], gold)["f1"] == 1.0
    split = b_cubed(["x", "z", "y", "y"], gold)
    assert split["precision"] == 1.0 and split["recall"] == 0.75
    merged = b_cubed(["x", "x", "x", "x"], gold)
    assert merged["recall"] == 1.0 and merged["precision"] == 0.5
