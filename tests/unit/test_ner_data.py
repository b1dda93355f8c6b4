"""NER corpus readers: made-up files in each format give exact texts and spans.

The real corpora never enter the project; the last test only checks invariants and counts over
them, where the folder exists (../shared/data, or PIPELINE_TRAIN_DATA).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from pipeline.train.ner_data import (
    DATASETS,
    LABELS,
    NerExample,
    flatten,
    iob_spans,
    load,
)
from tests.conftest import SHARED_DATA


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _pairs(example: NerExample) -> list[tuple[str, str]]:
    return [(example.text[start:end], label) for start, end, label in example.spans]


def test_iob_spans_start_an_entity_at_an_i_without_its_b() -> None:
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG", "B-ORG", "B-ORG"]
    assert iob_spans(tags) == [
        (0, 2, "PER"),
        (3, 5, "LOC"),
        (5, 6, "LOC"),
        (6, 7, "ORG"),
        (7, 8, "ORG"),
        (8, 9, "ORG"),
    ]
    with pytest.raises(ValueError, match="IOB"):
        iob_spans(["PER"])


def test_flatten_keeps_the_longest_of_overlapping_spans() -> None:
    spans = [(0, 5, "LOC"), (0, 10, "LOC"), (8, 12, "ORG"), (20, 22, "PER"), (14, 16, "PER")]
    assert flatten(spans) == ([(0, 10, "LOC"), (14, 16, "PER"), (20, 22, "PER")], 2)


def test_example_rejects_bad_spans() -> None:
    for spans in (
        [(0, 9, "PER")],
        [(0, 2, "DATE")],
        [(2, 4, "PER"), (0, 3, "ORG")],
        [(1, 1, "PER")],
    ):
        with pytest.raises(ValueError, match="bad span"):
            NerExample("abc def", tuple(spans), "en", "test")


def test_unknown_dataset_or_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown"):
        load("panx", "test-uk", tmp_path)
    with pytest.raises(ValueError, match="unknown"):
        load("wnut17", "train", tmp_path)


def test_ner_uk_maps_types_and_drops_non_names(tmp_path: Path) -> None:
    _write(
        tmp_path / "ner-uk" / "v2.0" / "iob" / "test.iob",
        "Марко B-PERS\nПетренко I-PERS\nприїхав O\nдо O\nЛуцька B-LOC\n5 B-DATE\nтравня I-DATE\n"
        ". O\n\n\n\nбухгалтер B-JOB\nчитав O\n« O\nЗелений B-ART\nліс I-ART\n» O\nв O\n"
        "ТОВ B-ORG\nБук I-ORG\nна O\nРіздво B-MISC\n",
    )
    first, second = load("ner-uk", "test", tmp_path)
    assert first == NerExample(
        "Марко Петренко приїхав до Луцька 5 травня .",
        ((0, 14, "PER"), (26, 32, "LOC")),
        "uk",
        "ner-uk",
    )
    assert second.text == "бухгалтер читав « Зелений ліс » в ТОВ Бук на Різдво"
    assert second.spans == ((18, 29, "PRO"), (34, 41, "ORG"))  # a work's title is a product
    assert second.masked == ((45, 51),)  # MISC: events, nationalities, common nouns together
    assert second.unannotated == ()


def test_conll_skips_docstart_and_reads_mixed_iob(tmp_path: Path) -> None:
    _write(
        tmp_path / "wikineural-repo" / "data" / "conll" / "en" / "val.conllu",
        "0\t-DOCSTART-\tO\n\n0\tAcme\tB-ORG\n1\tsaid\tO\n2\tGerman\tB-MISC\n3\tBank\tI-ORG\n"
        "\n0\tPeter\tI-PER\n1\tPan\tI-PER\n",
    )
    examples = load("conll2003", "dev", tmp_path)
    assert examples == [
        NerExample(
            "Acme said German Bank",
            ((0, 4, "ORG"), (17, 21, "ORG")),
            "en",
            "conll2003",
            masked=((10, 16),),  # MISC: the guidelines make "German" PER, an event EVT, …
        ),
        NerExample("Peter Pan", ((0, 9, "PER"),), "en", "conll2003"),
    ]


def test_panx_strips_the_language_prefix(tmp_path: Path) -> None:
    _write(
        tmp_path / "panx-wikiann" / "download" / "panx" / "dev-uk.tsv",
        "uk:Іван\tB-PER\nuk:Сірко\tI-PER\nuk:—\tO\nuk:Ніжин\tB-LOC\n\nСлавута\tB-LOC\n",
    )
    examples = load("panx", "dev-uk", tmp_path)
    assert [(e.text, _pairs(e), e.lang, e.source) for e in examples] == [
        ("Іван Сірко — Ніжин", [("Іван Сірко", "PER"), ("Ніжин", "LOC")], "uk", "panx"),
        ("Славута", [("Славута", "LOC")], "uk", "panx"),
    ]
    assert examples[0].unannotated == ("EVT", "PRO")


def _write_factrueval(folder: Path, text: str, objects: list[tuple[str, list[str]]]) -> None:
    """A document whose tokens are the text's words and punctuation; an object lists its spans
    as `kind:word`, one token each, at the word's first occurrence (`kind:word:1`: the second)."""
    tokens, cursor, lines = [], 0, []
    for sentence in text.split("\n\n"):
        for word in sentence.replace("«", "« ").replace("»", " »").replace(".", " .").split():
            start = text.index(word, cursor)
            cursor = start + len(word)
            tokens.append((str(100 + len(tokens)), start, word))
            lines.append(f"{tokens[-1][0]} {start} {len(word)} {word}")
        lines.append("")
    span_lines, object_lines = [], []
    for number, (kind, span_words) in enumerate(objects):
        ids = []
        for item in span_words:
            span_kind, word, *nth = item.split(":")
            index = [i for i, t in enumerate(tokens) if t[2] == word][int(nth[0]) if nth else 0]
            token_id, start, _ = tokens[index]
            ids.append(str(len(span_lines) + 1))
            span_lines.append(
                f"{ids[-1]} {span_kind} {start} {len(word)} {token_id} 1  # {token_id} {word}"
            )
        object_lines.append(f"{500 + number} {kind} {' '.join(ids)} # ...")
    _write(folder / "doc_1.txt", text)
    _write(folder / "doc_1.tokens", "\n".join(lines) + "\n")
    _write(folder / "doc_1.spans", "\n".join(span_lines) + "\n")
    _write(folder / "doc_1.objects", "\n".join(object_lines) + "\n")


def test_factrueval_reads_names_without_descriptors(tmp_path: Path) -> None:
    text = (
        "Мэрия Твери и Иван Петров посетили завод «Заря» и российских партнёров.\n\n"
        "Петров посетил Тульскую и Тверскую области."
    )
    _write_factrueval(
        tmp_path / "factRuEval-2016" / "devset",
        text,
        [
            ("Org", ["org_descr:Мэрия", "loc_name:Твери"]),  # no org_name: masked
            ("LocOrg", ["loc_name:Твери"]),  # the same extent: the label beats the mask
            ("Person", ["name:Иван", "surname:Петров"]),
            ("Org", ["org_descr:завод", "org_name:Заря"]),  # the name alone
            ("LocOrg", ["geo_adj:российских"]),  # no name: skipped
            ("Org", ["org_descr:партнёров"]),  # no name: skipped
            ("Project", ["prj_name:Заря"]),  # not a mapped type: masked, inside the Org
            ("Person", ["surname:Петров:1"]),
            ("Location", ["loc_name:Тульскую", "loc_descr:области"]),  # shared descriptor
            ("Location", ["loc_name:Тверскую", "loc_descr:области"]),
        ],
    )
    first, second = load("factrueval", "dev", tmp_path)
    assert first.text == "Мэрия Твери и Иван Петров посетили завод «Заря» и российских партнёров."
    assert _pairs(first) == [("Твери", "LOC"), ("Иван Петров", "PER"), ("Заря", "ORG")]
    assert first.masked == ()
    assert second == NerExample(
        "Петров посетил Тульскую и Тверскую области.",
        ((0, 6, "PER"), (15, 23, "LOC"), (26, 34, "LOC")),
        "ru",
        "factrueval",
        unannotated=("EVT", "PRO"),
    )


def _write_slavicner(
    root: Path, topic: str, lang: str, text: str, entities: list[str], name: str = "doc_1"
) -> None:
    """One document; entities are `LABEL:surface`, each at its first occurrence from where the
    previous one starts (so an entity nested in the previous one is found too)."""
    lines, cursor = [], 0
    for entity in entities:
        label, surface = entity.split(":")
        cursor = text.index(surface, cursor)
        end = cursor + len(surface)
        lines.append(f"{cursor}\t{end}\t{surface}\t{surface}\t{label}\t{label}-x")
    _write(root / "raw" / topic / lang / f"{name}.txt", text)
    _write(root / "ner" / topic / lang / f"{name}.tsv", "\n".join(lines) + "\n")


def test_slavicner_reads_whole_documents_of_a_topic(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "slavicner"
    text = "Марта Лис поїхала до Брюсселя. Там вона бачила ЄС.\n\nПрем'єр Лис прибула."
    _write_slavicner(
        root, "brexit", "uk", text, ["PER:Марта Лис", "LOC:Брюсселя", "ORG:ЄС", "PER:Лис"]
    )
    _write_slavicner(root, "brexit", "ru", "Лондон-Сити ждёт.", ["LOC:Лондон-Сити", "LOC:Лондон"])
    _write_slavicner(root, "nord_stream", "ru", "Газ идёт в Германию.", ["LOC:Германию"])
    with caplog.at_level(logging.INFO, logger="pipeline.train.ner_data"):
        uk, ru = load("slavicner", "brexit", tmp_path)
    assert (uk.text, uk.lang, uk.source) == (text, "uk", "slavicner/brexit")
    assert _pairs(uk) == [("Марта Лис", "PER"), ("Брюсселя", "LOC"), ("ЄС", "ORG"), ("Лис", "PER")]
    assert _pairs(ru) == [("Лондон-Сити", "LOC")]
    assert "1 nested entities dropped" in caplog.text
    (other,) = load("slavicner", "nord_stream", tmp_path)
    assert _pairs(other) == [("Германию", "LOC")]
    with pytest.raises(FileNotFoundError, match="ryanair"):
        load("slavicner", "ryanair", tmp_path)


def test_slavicner_cross_topic_split_reads_its_listed_uk_and_ru_documents(tmp_path: Path) -> None:
    root = tmp_path / "slavicner"
    _write_slavicner(root, "brexit", "ru", "Мэй в Лондоне.", ["PER:Мэй", "LOC:Лондоне"], "b_1")
    _write_slavicner(root, "brexit", "ru", "Джонсон ушёл.", ["PER:Джонсон"], "b_2")
    _write_slavicner(root, "ryanair", "uk", "Ryanair скасував рейси.", ["ORG:Ryanair"], "r_1")
    _write(
        root / "SPLIT_cross-topic_test.txt",
        "raw/ryanair/uk/r_1.txt\n"  # file order is kept
        "raw/brexit/pl/b_9.txt\n"  # not uk or ru
        "raw/us_election_2020/ru/u_1.txt\n"  # a withheld topic: absent, skipped
        "raw/brexit/ru/b_2.txt\n",
    )
    _write(root / "SPLIT_cross-topic_train.txt", "raw/brexit/ru/b_1.txt\n")
    first, second = load("slavicner-cross", "test", tmp_path)
    assert (first.lang, first.source, _pairs(first)) == (
        "uk",
        "slavicner/ryanair",
        [("Ryanair", "ORG")],
    )
    assert (second.lang, _pairs(second)) == ("ru", [("Джонсон", "PER")])
    (train,) = load("slavicner-cross", "train", tmp_path)
    assert _pairs(train) == [("Мэй", "PER"), ("Лондоне", "LOC")]


def test_slavicner_rejects_offsets_that_miss_the_surface(tmp_path: Path) -> None:
    root = tmp_path / "slavicner"
    _write(root / "raw" / "nord_stream" / "uk" / "d.txt", "Газ іде в Німеччину.")
    _write(root / "ner" / "nord_stream" / "uk" / "d.tsv", "0\t3\tНім\tНім\tLOC\tLOC-x\n")
    with pytest.raises(ValueError, match="do not match"):
        load("slavicner", "nord_stream", tmp_path)


def _factrueval_token_bounds(folder: Path) -> list[tuple[set[int], set[int]]]:
    """Token starts and ends, relative to each sentence, straight from the .tokens files."""
    bounds = []
    for path in sorted(folder.glob("*.tokens")):
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            rows = [line.split(" ") for line in block.splitlines() if line.strip()]
            if rows:
                base = int(rows[0][1])
                starts = {int(r[1]) - base for r in rows}
                bounds.append((starts, {int(r[1]) + int(r[2]) - base for r in rows}))
    return bounds


def _present(name: str, split: str) -> bool:
    """Withheld SlavicNER topics are absent from the shared copy."""
    return name != "slavicner" or (SHARED_DATA / "slavicner" / "ner" / split).is_dir()


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no labelled data at {SHARED_DATA}")
@pytest.mark.parametrize(
    ("name", "split"),
    [(name, s) for name, splits in DATASETS.items() for s in splits if _present(name, s)],
)
def test_real_data_invariants_and_counts(
    name: str, split: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pipeline.train.ner_data"):
        examples = load(name, split, SHARED_DATA)
    assert examples
    for example in examples:
        assert example.lang in ("uk", "ru", "en")
        for start, end, label in example.spans:
            assert 0 <= start < end <= len(example.text)
            assert example.text[start:end] == example.text[start:end].strip()
            assert label in LABELS
    if name == "factrueval":
        folder = SHARED_DATA / "factRuEval-2016" / f"{split}set"
        for example, (starts, ends) in zip(examples, _factrueval_token_bounds(folder), strict=True):
            assert all(s in starts and e in ends for s, e, _ in example.spans), example.spans
    labels = Counter(label for example in examples for _, _, label in example.spans)
    print(
        f"\n{name}/{split}: {len(examples)} examples, {labels.total()} entities,",
        dict(sorted(labels.items())),
        *(record.getMessage() for record in caplog.records),
    )
