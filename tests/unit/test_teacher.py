"""Teacher labels: which names of unlabelled sentences a teacher judges, and what it writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.nlp.e5.stance import E5Stance
from pipeline.nlp.types import StanceInput
from pipeline.train.stance_data import load_stance
from pipeline.train.teacher import (
    DEFAULT_SOURCES,
    NEWS_SOURCES,
    judged,
    source_targets,
    targets,
)
from tests.synthetic import NER_EXAMPLES, example

DOCUMENT = example(
    "Кличко зустрів Туска у Варшаві, і Туск подякував Кличку. Так. "
    "Зеленський прибув до Варшави на переговори з Туском.",
    ("Кличко", "PER"),
    ("Туска", "PER"),
    ("Варшаві", "LOC"),
    ("Зеленський", "PER"),
)


def test_each_distinct_name_of_a_prose_sentence_is_a_target_at_its_first_mention() -> None:
    rows = targets([DOCUMENT, DOCUMENT], "slavicner:test", None)
    assert [(r["target"], r["span"]) for r in rows] == [
        ("Кличко", [0, 6]),
        ("Туска", [15, 20]),
        ("Варшаві", [23, 30]),
        ("Зеленський", [0, 10]),
    ]  # "Так." is too short to judge; a sentence met twice is judged once
    second = rows[-1]["text"]
    assert second.startswith("Зеленський") and rows[0]["source"] == "slavicner:test"
    assert not any(
        r["text"] == "Без сутностей у цьому реченні." for r in targets(NER_EXAMPLES, "s", None)
    )


def test_a_cap_keeps_a_seeded_sample_of_sentences_with_all_their_names() -> None:
    rows = targets(NER_EXAMPLES, "s", 2)
    assert len({r["text"] for r in rows}) == 2 and rows == targets(NER_EXAMPLES, "s", 2)
    for text in {r["text"] for r in rows}:
        whole = next(r for r in targets(NER_EXAMPLES, "s", None) if r["text"] == text)
        assert whole in rows


def test_the_teacher_writes_its_probabilities_which_read_back_as_soft_labels(
    e5_stance_head: Path, tmp_path: Path
) -> None:
    head = E5Stance(e5_stance_head)
    rows = targets([DOCUMENT], "slavicner:test", None)
    written = list(judged(head, rows))
    expected = head.distributions(
        [StanceInput(r["target"], r["text"], (tuple(r["span"]),)) for r in rows]
    )
    assert np.allclose([r["probs"] for r in written], expected, atol=1e-4)
    path = tmp_path / "teacher.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in written))
    soft = load_stance("teacher", str(path), tmp_path)
    assert [e.soft for e in soft] == [tuple(r["probs"]) for r in written]
    assert all(e.span is not None for e in soft)


def test_the_default_sources_are_in_the_data_and_name_people_in_each_language(
    shared_data: Path,
) -> None:
    languages = set()
    for source in DEFAULT_SOURCES:
        rows = source_targets(source, shared_data)
        assert rows, source
        languages |= {r["lang"] for r in rows}
    assert languages == {"uk", "ru", "en"}


def test_rusentrel_articles_lose_their_opinion_holder_marks_and_keep_their_names(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "rusentrel" / "train"
    folder.mkdir(parents=True)
    text = "{Author, Unknown} Путин встретился с Макроном в Париже.\n"
    (folder / "art1.txt").write_text(text, encoding="utf-8")
    (folder / "art1.opin.txt").write_text("Путин, Макрон, pos, current\n", encoding="utf-8")
    ann = [("PER", "Author"), ("PER", "Unknown"), ("PER", "Путин"), ("PER", "Макроном"),
           ("GEOPOLIT", "Париже")]  # fmt: skip
    (folder / "art1.ann").write_text(
        "".join(
            f"T{i}\t{kind} {text.index(name)} {text.index(name) + len(name)}\t{name}\n"
            for i, (kind, name) in enumerate(ann, 1)
        ),
        encoding="utf-8",
    )
    (tmp_path / "rusentrel" / "test").mkdir()
    rows = source_targets("rusentrel:all", tmp_path)
    assert [r["target"] for r in rows] == ["Путин", "Макроном", "Париже"]
    assert rows[0]["text"] == "Путин встретился с Макроном в Париже."
    assert {(r["lang"], r["source"]) for r in rows} == {("ru", "rusentrel:all")}


def test_the_news_sources_are_russian_news_with_targets_where_they_say_and_no_labelled_sentence(
    shared_data: Path,
) -> None:
    labelled = {
        e.text
        for split in ("train", "heldout")
        for e in load_stance("rusentne", split, shared_data)
    }
    for source in NEWS_SOURCES:
        rows = source_targets(source, shared_data)
        assert len(rows) > 1000, source
        assert all(r["text"][slice(*r["span"])] == r["target"] for r in rows)
        assert {r["lang"] for r in rows} == {"ru"}
        assert not {r["text"] for r in rows} & labelled
        assert not any("{Author" in r["text"] for r in rows)
