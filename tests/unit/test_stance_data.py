"""Stance and NLI readers: each file format on a tiny made-up sample, then a smoke test over the
real data in ../shared/data (never copied here: every sample below is invented)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.train.stance_data import (
    NLI_DATASETS,
    NLI_LABELS,
    STANCE_DATASETS,
    STANCE_LABELS,
    NliExample,
    StanceExample,
    load_nli,
    load_stance,
)

RUSENTNE_HEADER = "sentence\tentity\tentity_tag\tentity_pos_start_rel\tentity_pos_end_rel\tlabel\n"


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def test_rusentne_reads_quoted_rows_offsets_and_labels(tmp_path: Path) -> None:
    _write(
        tmp_path / "rusentne2023" / "train_data.csv",
        RUSENTNE_HEADER
        + "Мэр Кузякин открыл мост.\tКузякин\tPERSON\t4\t11\t1\n"
        + '"Фирма ""Лютик"" уволила директора."\tЛютик\tORGANIZATION\t7\t12\t0\n'
        + "Фирма Лютик уволила директора.\tдиректора\tPROFESSION\t0\t5\t-1\n",
    )
    expected = {
        StanceExample("Мэр Кузякин открыл мост.", "Кузякин", "favor", "ru", "rusentne", (4, 11)),
        StanceExample(
            'Фирма "Лютик" уволила директора.', "Лютик", "neutral", "ru", "rusentne", (7, 12)
        ),
        # Offsets that do not point at the entity leave the span unknown.
        StanceExample(
            "Фирма Лютик уволила директора.", "директора", "against", "ru", "rusentne", None
        ),
    }
    examples = [e for s in ("train", "heldout") for e in load_stance("rusentne", s, tmp_path)]
    assert len(examples) == 3
    assert set(examples) == expected


def test_rusentne_split_is_stable_and_sentence_disjoint(tmp_path: Path) -> None:
    rows = [
        f"Депутат Бубликов{i} поспорил с Огурцовым.\t{name}\tPERSON\t{start}\t{end}\t0\n"
        for i in range(40)
        for name, start, end in ((f"Бубликов{i}", 8, 16 + len(str(i))), ("Депутат", 0, 7))
    ]
    _write(tmp_path / "rusentne2023" / "train_data.csv", RUSENTNE_HEADER + "".join(rows))
    train = load_stance("rusentne", "train", tmp_path)
    heldout = load_stance("rusentne", "heldout", tmp_path)
    assert len(train) + len(heldout) == 80
    assert not {e.text for e in train} & {e.text for e in heldout}
    # Pinned: a changed hash would move sentences between splits of models already trained.
    held = sorted(int(e.text.split()[1].removeprefix("Бубликов")) for e in heldout)
    assert held == [5, 5, 20, 20, 28, 28, 33, 33, 34, 34]
    assert load_stance("rusentne", "heldout", tmp_path) == heldout


def test_newsmtsc_reads_each_target_with_float_or_int_polarity(tmp_path: Path) -> None:
    record = {
        "primary_gid": "x_1",
        "sentence_normalized": "Mayor Quill praised Governor Brandt but mocked Senator Ames.",
        "targets": [
            {"Input.gid": "x_1", "from": 0, "to": 11, "mention": "Mayor Quill", "polarity": 4.0},
            {"Input.gid": "x_2", "from": 20, "to": 35, "mention": "Governor Brandt", "polarity": 6},
            {
                "Input.gid": "x_3",
                "from": 47,
                "to": 59,
                "mention": "Senator Ames",
                "polarity": 2.0,
                "further_mentions": [{"from": 0, "to": 0, "mention": ""}],
            },
        ],
    }
    folder = tmp_path / "newsmtsc/NewsSentiment/controller_data/datasets/NewsMTSC-dataset"
    _write(folder / "devtest_mt.jsonl", json.dumps(record) + "\n\n")
    text = record["sentence_normalized"]
    assert load_stance("newsmtsc", "devtest_mt", tmp_path) == [
        StanceExample(text, "Mayor Quill", "neutral", "en", "newsmtsc", (0, 11)),
        StanceExample(text, "Governor Brandt", "favor", "en", "newsmtsc", (20, 35)),
        StanceExample(text, "Senator Ames", "against", "en", "newsmtsc", (47, 59)),
    ]


def test_fnc1_pairs_headline_with_body_lead_and_drops_unrelated(tmp_path: Path) -> None:
    _write(
        tmp_path / "fnc1" / "competition_test_bodies.csv",
        "Body ID,articleBody\n"
        '7,"Moon cheese is real, a farmer says. He sold ten wheels.\n\n'
        'Experts doubt it. Nobody tasted any."\n'
        "9,Short body only.\n",
    )
    _write(
        tmp_path / "fnc1" / "competition_test_stances.csv",
        "Headline,Body ID,Stance\n"
        "Farmer finds moon cheese ,7,agree\n"
        "Moon cheese is a hoax,7,disagree\n"
        '"Cheese, moon, farmer",9,discuss\n'
        "Cat elected mayor,9,unrelated\n",
    )
    lead = "Moon cheese is real, a farmer says. He sold ten wheels. Experts doubt it."
    assert load_stance("fnc1", "test", tmp_path) == [
        StanceExample(lead, "Farmer finds moon cheese", "favor", "en", "fnc1", None),
        StanceExample(lead, "Moon cheese is a hoax", "against", "en", "fnc1", None),
        StanceExample("Short body only.", "Cheese, moon, farmer", "neutral", "en", "fnc1", None),
    ]


def test_ruw_stance_reads_gb18030_and_yields_one_example_per_target(tmp_path: Path) -> None:
    _write(
        tmp_path / "ruw-stance" / "raw_val_Russia_Ukraine.csv",
        "Tweet,Target 1,Stance 1,Target 2,Stance 2,Test/Train/Dev\r\n"
        "Talks stalled again… #peace,Russia,AGAINST,Ukraine,FAVOR,Dev\r\n"
        '"Grain, ships, ports",Russia,NONE,Ukraine,NONE,Dev\r\n',
        encoding="gb18030",
    )
    tweet = "Talks stalled again… #peace"
    assert load_stance("ruw-stance", "val", tmp_path) == [
        StanceExample(tweet, "Russia", "against", "en", "ruw-stance", None),
        StanceExample(tweet, "Ukraine", "favor", "en", "ruw-stance", None),
        StanceExample("Grain, ships, ports", "Russia", "neutral", "en", "ruw-stance", None),
        StanceExample("Grain, ships, ports", "Ukraine", "neutral", "en", "ruw-stance", None),
    ]


def test_xnli_keeps_quote_characters_as_text(tmp_path: Path) -> None:
    _write(
        tmp_path / "xnli-dev" / "data" / "xnli" / "dev-bg.tsv",
        '"Да" каза тя.\tТя отказа.\tcontradiction\nЗима е.\tСтуд е.\tentailment\n',
    )
    assert load_nli("xnli", "bg", tmp_path) == [
        NliExample('"Да" каза тя.', "Тя отказа.", "contradiction", "bg", "xnli"),
        NliExample("Зима е.", "Студ е.", "entailment", "bg", "xnli"),
    ]


def test_nli_pairs_read_as_stance_toward_the_hypothesis(tmp_path: Path) -> None:
    _write(
        tmp_path / "xnli-dev" / "data" / "xnli" / "dev-ru.tsv",
        "Зима.\tХолодно.\tentailment\nЗима.\tЖарко.\tcontradiction\nЗима.\tСнег.\tneutral\n",
    )
    assert load_stance("xnli", "ru", tmp_path) == [
        StanceExample("Зима.", "Холодно.", "favor", "ru", "xnli", None),
        StanceExample("Зима.", "Жарко.", "against", "ru", "xnli", None),
        StanceExample("Зима.", "Снег.", "neutral", "ru", "xnli", None),
    ]


def test_terra_maps_not_entailment_to_neutral(tmp_path: Path) -> None:
    records = [
        {"premise": "Кот спит.", "hypothesis": "Кот отдыхает.", "label": "entailment", "idx": 0},
        {"premise": "Кот спит.", "hypothesis": "Кот рыжий.", "label": "not_entailment", "idx": 1},
    ]
    path = tmp_path / "terra-ru" / "data" / "TERRa" / "val.jsonl"
    _write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    assert load_nli("terra", "val", tmp_path) == [
        NliExample("Кот спит.", "Кот отдыхает.", "entailment", "ru", "terra"),
        NliExample("Кот спит.", "Кот рыжий.", "neutral", "ru", "terra"),
    ]


def test_sick_reads_crlf_rows_and_lowercases_labels(tmp_path: Path) -> None:
    _write(
        tmp_path / "sick2014" / "data" / "sts" / "sick2014" / "SICK_test_annotated.txt",
        "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\r\n"
        "1\tA dog runs\tAn animal runs\t4.5\tENTAILMENT\r\n"
        "2\tA dog runs\tNo dog runs\t3.1\tCONTRADICTION\r\n"
        "3\tA dog runs\tA cat sleeps\t1.2\tNEUTRAL\r\n",
    )
    assert load_nli("sick", "test", tmp_path) == [
        NliExample("A dog runs", "An animal runs", "entailment", "en", "sick"),
        NliExample("A dog runs", "No dog runs", "contradiction", "en", "sick"),
        NliExample("A dog runs", "A cat sleeps", "neutral", "en", "sick"),
    ]


def test_teacher_labels_read_as_soft_examples_labelled_by_their_argmax(tmp_path: Path) -> None:
    text = "Мер Києва Кличко розкритикував уряд."
    rows = [
        {"text": text, "target": "Кличко", "span": [10, 16], "probs": [0.1, 0.6, 0.3]},
        {"text": text, "target": "уряд", "span": [0, 3], "probs": [0.2, 0.5, 0.3]},
    ]
    rows = [{**row, "lang": "uk"} for row in rows]
    path = tmp_path / "teacher.jsonl"
    _write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    first, second = load_stance("teacher", str(path), tmp_path)
    assert STANCE_LABELS.index(first.label) == 1 and first.soft == (0.1, 0.6, 0.3)
    assert first.span == (10, 16) and first.source == "teacher"
    assert second.span is None  # offsets that do not point at the target are not a mention
    _write(path, json.dumps({**rows[0], "probs": [0.5, 0.5]}) + "\n")
    with pytest.raises(ValueError, match="2 probabilities"):
        load_stance("teacher", str(path), tmp_path)


def test_unknown_names_splits_and_labels_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown dataset"):
        load_stance("semeval", "train", tmp_path)
    with pytest.raises(ValueError, match="no split"):
        load_nli("xnli", "uk", tmp_path)
    record = {
        "sentence_normalized": "Ames won.",
        "targets": [{"from": 0, "to": 4, "mention": "Ames", "polarity": 5.0}],
    }
    folder = tmp_path / "newsmtsc/NewsSentiment/controller_data/datasets/NewsMTSC-dataset"
    _write(folder / "train.jsonl", json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=r"unexpected label 5\.0"):
        load_stance("newsmtsc", "train", tmp_path)


# --- smoke test over the real data ------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(shared_data: Path) -> Path:
    return shared_data


def _counts(labels: list[str], order: tuple[str, ...]) -> str:
    counts = Counter(labels)
    return " ".join(f"{label}={counts[label]}" for label in order)


@pytest.mark.parametrize(
    ("name", "split"), [(n, s) for n, splits in STANCE_DATASETS.items() for s in splits]
)
def test_real_stance_data(data_dir: Path, name: str, split: str) -> None:
    examples = load_stance(name, split, data_dir)
    with_span = [e for e in examples if e.span is not None]
    matching = sum(e.text[slice(*e.span)] == e.target for e in with_span)
    print(
        f"{name}/{split}: n={len(examples)} {_counts([e.label for e in examples], STANCE_LABELS)}"
        f" spans={len(with_span)} matching={matching}"
    )
    assert examples
    assert all(e.label in STANCE_LABELS and e.text and e.target for e in examples)
    assert all(0 <= e.span[0] < e.span[1] <= len(e.text) for e in with_span)
    if name in ("rusentne", "newsmtsc"):  # annotated offsets: every one must point at its target
        assert matching == len(examples)


@pytest.mark.parametrize(
    ("name", "split"), [(n, s) for n, splits in NLI_DATASETS.items() for s in splits]
)
def test_real_nli_data(data_dir: Path, name: str, split: str) -> None:
    examples = load_nli(name, split, data_dir)
    print(f"{name}/{split}: n={len(examples)} {_counts([e.label for e in examples], NLI_LABELS)}")
    assert examples
    assert all(e.label in NLI_LABELS and e.premise and e.hypothesis for e in examples)


def test_real_rusentne_heldout_is_a_tenth_and_disjoint(data_dir: Path) -> None:
    train = load_stance("rusentne", "train", data_dir)
    heldout = load_stance("rusentne", "heldout", data_dir)
    assert not {e.text for e in train} & {e.text for e in heldout}
    assert 0.07 < len(heldout) / (len(train) + len(heldout)) < 0.13


def test_real_xnli_splits_are_the_labelled_files(data_dir: Path) -> None:
    files = (data_dir / "xnli-dev" / "data" / "xnli").glob("dev-*.tsv")
    assert sorted(p.stem.removeprefix("dev-") for p in files) == sorted(NLI_DATASETS["xnli"])


def test_the_ukrainian_check_set_reads_its_marked_targets() -> None:
    examples = load_stance("uk-check", "test", Path("unused"))
    assert len(examples) >= 40 and {e.lang for e in examples} == {"uk"}
    assert all(e.span and e.text[e.span[0] : e.span[1]] == e.target for e in examples)
    assert all("[[" not in e.text for e in examples)
    assert min(Counter(e.label for e in examples).values()) >= 15


def test_the_ukrainian_check_set_is_never_trained_on(tmp_path: Path) -> None:
    from pipeline.train.stance import StanceTrainConfig, train_stance

    examples = load_stance("uk-check", "test", Path("unused"))[:2]
    with pytest.raises(ValueError, match="never trained on"):
        train_stance(StanceTrainConfig(), examples, tmp_path)
