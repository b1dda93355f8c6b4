"""The e5 NER head: labels per token, batching, a short real training run, inference, scores.

Runs on the real converted e5-small base; the examples are made up here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.contracts import entity_labels
from pipeline.nlp.e5.ner import E5EntityRecognizer
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.nlp.spans import bio_tags
from pipeline.train.loop import (
    IGNORE,
    Feature,
    collate,
    frozen_states,
    label_weights,
    length_batches,
    pad_states,
    partial_nll,
)
from pipeline.train.model import E5Classifier, load_tokenizer
from pipeline.train.ner import (
    NerTrainConfig,
    evaluate_ner,
    features,
    span_scores,
    token_labels,
    train_ner,
)
from pipeline.train.ner_data import NerExample
from tests.synthetic import NER_EXAMPLES

TAGS = bio_tags(["PER", "ORG", "LOC"])
TAG_IDS = {t: i for i, t in enumerate(TAGS)}


def test_token_labels_mark_beginning_and_inside() -> None:
    offsets = [(0, 3), (3, 6), (7, 10), (11, 12), (13, 17)]
    spans = [(0, 6, "PER"), (13, 17, "LOC")]
    assert token_labels(offsets, spans, TAG_IDS) == [
        TAG_IDS["B-PER"], TAG_IDS["I-PER"], TAG_IDS["O"], TAG_IDS["O"], TAG_IDS["B-LOC"],
    ]  # fmt: skip


def test_features_align_with_the_e5_tokenizer() -> None:
    (feature,) = features([NER_EXAMPLES[0]], load_serving_tokenizer(), TAGS)
    assert feature.labels[0] == feature.labels[-1] == IGNORE
    tokens = load_tokenizer().convert_ids_to_tokens(feature.input_ids)
    content = zip(tokens[1:-1], feature.labels[1:-1], strict=True)
    tagged = [(tok, TAGS[label]) for tok, label in content]
    per = [(tok, tag) for tok, tag in tagged if tag.endswith("PER")]
    assert per[0][1] == "B-PER" and {tag for _, tag in per[1:]} == {"I-PER"}
    assert "".join(tok for tok, _ in per).replace("▁", " ").strip() == "Касим-Жомарт Токаєв"
    loc = [(tok, tag) for tok, tag in tagged if tag.endswith("LOC")]
    assert "".join(tok for tok, _ in loc).strip("▁") == "Астани" and loc[0][1] == "B-LOC"


def test_length_batches_respect_the_token_budget() -> None:
    items = features(NER_EXAMPLES * 5, load_serving_tokenizer(), TAGS)
    batches = length_batches(items, 64, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(len(items)))
    for batch in batches:
        assert len(batch) == 1 or max(len(items[i].input_ids) for i in batch) * len(batch) <= 64


def test_span_scores() -> None:
    gold = [[(0, 5, "PER"), (10, 15, "LOC")], [(0, 3, "ORG")]]
    predicted = [[(0, 5, "PER"), (10, 14, "LOC")], [(0, 3, "ORG"), (5, 9, "PER")]]
    scores = span_scores(gold, predicted)
    assert scores["PER"] == {"p": 0.5, "r": 1.0, "f1": 0.6667, "n": 1}
    assert scores["LOC"]["f1"] == 0.0
    assert scores["micro"] == {"p": 0.5, "r": 0.6667, "f1": 0.5714, "n": 3}


def test_training_saves_a_small_head_that_loads_and_predicts_whole_words(
    e5_ner_head: Path,
) -> None:
    size = sum(f.stat().st_size for f in e5_ner_head.iterdir())
    assert size < 10_000_000, "only adapters and the classifier are saved"
    recognizer = E5EntityRecognizer(e5_ner_head)
    text = "Зеленський прибув до Астани, де його зустрів Токаєв. " * 30  # several windows
    (spans,) = recognizer.predict([text])
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert not (span.start > 0 and text[span.start - 1].isalnum())
        assert not (span.end < len(text) and text[span.end].isalnum())
        assert span.label in entity_labels() and 0 < span.score <= 1


def test_training_resumes_from_its_checkpoint(e5_ner_head: Path) -> None:
    out = e5_ner_head.parent
    state = out / "checkpoint" / "state.pt"
    before = state.stat().st_mtime_ns
    config = NerTrainConfig(epochs=3, batch_tokens=256, checkpoint_every=2)
    train_ner(config, NER_EXAMPLES * 2, out, resume=True)  # already at the last step: nothing to do
    assert state.stat().st_mtime_ns == before


def test_training_can_continue_from_a_trained_head(e5_ner_head: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    config = NerTrainConfig(epochs=0.1, batch_tokens=256, lr=1e-12, init=str(e5_ner_head))
    continued = train_ner(config, NER_EXAMPLES, tmp_path)
    before, after = (
        load_file(e5_ner_head / "weights.safetensors"),
        load_file(continued / "weights.safetensors"),
    )
    assert before.keys() == after.keys()
    assert all((before[k] - after[k]).abs().max() < 1e-6 for k in before)


def test_a_further_pass_may_adapt_more_layers_but_not_fewer(
    e5_ner_head: Path, tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    config = NerTrainConfig(epochs=0.1, batch_tokens=256, lr=1e-12, init=str(e5_ner_head))
    config.first_layer = 2
    deeper = load_file(train_ner(config, NER_EXAMPLES, tmp_path / "deeper") / "weights.safetensors")
    before = load_file(e5_ner_head / "weights.safetensors")
    added = deeper.keys() - before.keys()
    assert before.keys() < deeper.keys()
    assert {k.split(".layer.")[1].split(".")[0] for k in added} == {"2", "3"}
    assert all(deeper[k].abs().max() < 1e-6 for k in added if "lora_B" in k)  # a no-op so far
    config.first_layer = 6
    with pytest.raises(ValueError, match="do not fit"):
        train_ner(config, NER_EXAMPLES, tmp_path / "shallower")


def test_a_further_pass_may_add_entity_types_but_not_drop_them(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    three = NerTrainConfig(epochs=0.1, batch_tokens=256, labels=["PER", "ORG", "LOC"])
    saved = train_ner(three, NER_EXAMPLES, tmp_path / "three")
    grown_config = NerTrainConfig(epochs=0.1, batch_tokens=256, lr=1e-12, init=str(saved))
    grown = train_ner(grown_config, NER_EXAMPLES, tmp_path / "five")
    before, after = (
        load_file(saved / "weights.safetensors"),
        load_file(grown / "weights.safetensors"),
    )
    assert after["classifier.weight"].shape[0] == 11  # O + B/I of five types
    assert (after["classifier.weight"][:7] - before["classifier.weight"]).abs().max() < 1e-6
    three.init = str(grown)
    with pytest.raises(ValueError, match="not this one"):
        train_ner(three, NER_EXAMPLES, tmp_path / "dropped")


def test_label_weights_favour_rare_labels_by_the_square_root() -> None:
    items = [Feature([5, 6, 7], [IGNORE, 0, IGNORE])] * 8 + [Feature([5, 6], [2, IGNORE])] * 2
    assert label_weights(items, 3).tolist() == pytest.approx([1.0, 8.0**0.5, 2.0])


def test_features_leave_masked_spans_out_and_open_unannotated_labels() -> None:
    tags = bio_tags(["PER", "ORG", "LOC", "EVT", "PRO"])
    text = "Acme said German Bank"
    spans = ((0, 4, "ORG"),)
    example = NerExample(text, spans, "en", "t", masked=((10, 16),), unannotated=("EVT",))
    (feature,) = features([example], load_serving_tokenizer(), tags)
    tokens = load_tokenizer().convert_ids_to_tokens(feature.input_ids)[1:-1]
    labelled = dict(zip(tokens, feature.labels[1:-1], strict=True))
    assert labelled["▁German"] == IGNORE and tags[labelled["▁said"]] == "O"
    assert tags[labelled["▁Ac"]] == "B-ORG"
    assert [tags[i] for i in feature.open_tags] == ["B-EVT", "I-EVT"]


def test_partial_nll_counts_an_open_label_as_right_at_o_tokens() -> None:
    import torch

    logits = torch.tensor([[[0.0, 4.0, 0.0], [3.0, 0.0, 0.0]]])  # token 0 looks like tag 1
    labels = torch.tensor([[0, IGNORE]])
    closed = partial_nll(logits, labels, torch.tensor([[False, False, False]]))
    expected = torch.nn.functional.cross_entropy(logits[0], labels[0], ignore_index=IGNORE)
    assert closed == pytest.approx(expected.item(), rel=1e-5)
    opened = partial_nll(logits, labels, torch.tensor([[False, True, False]]))
    assert opened < 0.05 < closed  # O or tag 1: either is right where tag 1 is not annotated
    weighted = partial_nll(logits, labels, torch.zeros(1, 3, dtype=torch.bool), torch.ones(3) * 2)
    assert weighted == pytest.approx(closed.item(), rel=1e-5)  # weights are normalised


def test_frozen_layers_cached_once_give_the_full_forward(e5_ner_head: Path) -> None:
    import torch

    model = E5Classifier.load(e5_ner_head).eval()
    items = features(NER_EXAMPLES * 2, load_serving_tokenizer(), model.config.labels)
    states = frozen_states(model, items, pad_id=1, batch_tokens=64)
    assert states[0] is states[len(NER_EXAMPLES)]  # a repeated input is computed once
    ids, mask, _, _ = collate(items[:3], pad_id=1)
    padded = pad_states(states[:3], ids.shape[1])
    with torch.inference_mode():
        cached, full = model.upper(padded, mask), model(ids, mask)
    real = mask.bool()  # padding positions differ (zeros vs <pad> states) and are never read
    assert torch.allclose(cached[real], full[real], atol=1e-4)


def test_evaluation_reports_per_language_and_the_goal_figure(e5_ner_head: Path) -> None:
    labels = list(entity_labels())
    report = evaluate_ner(e5_ner_head, NER_EXAMPLES, labels)
    assert set(report["by_language"]) == {e.lang for e in NER_EXAMPLES}
    n_core = sum(s[2] in ("PER", "ORG", "LOC") for e in NER_EXAMPLES for s in e.spans)
    assert report["micro_per_org_loc"]["n"] == n_core
    assert report["micro"]["n"] == sum(len(e.spans) for e in NER_EXAMPLES)
    uk = [e for e in NER_EXAMPLES if e.lang == "uk"]
    assert report["by_language"]["uk"]["micro"]["n"] == sum(len(e.spans) for e in uk)
    assert 0 <= report["micro_without_consistency"]["f1"] <= 1
    assert report["micro_per_org_loc_ignoring_quotes"]["n"] == n_core


def test_evaluation_does_not_count_what_the_corpus_cannot_judge() -> None:
    from pipeline.train.ner import _judged

    spans = ((0, 4, "ORG"),)
    example = NerExample("Acme said German Bank", spans, "en", "t", ((10, 16),), ("EVT",))
    assert _judged(example, 0, 4, "ORG") and _judged(example, 17, 21, "LOC")
    assert not _judged(example, 10, 16, "PER")  # CoNLL's MISC "German": PER by the guidelines
    assert not _judged(example, 10, 21, "ORG")  # touches the masked name
    assert not _judged(example, 0, 4, "EVT")  # a type this corpus does not annotate


def test_quotes_around_a_whole_name_are_ignored_only_in_the_ignoring_quotes_figure() -> None:
    from pipeline.train.ner import _unquoted

    text = 'о « Северном потоке » и "ЕС"'
    start = text.index("«")
    assert _unquoted(text, (start, start + 19, "PRO")) == (start + 2, start + 17, "PRO")
    assert _unquoted(text, (text.index('"'), len(text), "ORG")) == (
        len(text) - 3,
        len(text) - 1,
        "ORG",
    )
    assert _unquoted(text, (0, 1, "ORG")) == (0, 1, "ORG")


NORD = "Акції Nord Stream AG заарештовано."


def test_a_bare_space_token_inside_a_name_gets_no_loss() -> None:
    example = NerExample(NORD, ((6, 20, "ORG"),), "uk", "slavicner")
    (feature,) = features([example], load_serving_tokenizer(), TAGS)
    tokens = load_tokenizer().convert_ids_to_tokens(feature.input_ids)
    labelled = dict(zip(tokens, feature.labels, strict=True))
    assert labelled["▁"] == IGNORE  # "Nord ▁ Stream": XLM-R has no "▁Stream"
    assert TAGS[labelled["Stream"]] == "I-ORG" and TAGS[labelled["▁Nord"]] == "B-ORG"


class _BareSpaceSaysO(E5EntityRecognizer):
    """A head that tags each word right and a bare "▁" as O, as a head taught so did."""

    def __init__(self) -> None:
        self.labels, self.tokenizer = TAGS, load_serving_tokenizer()

    def probabilities(self, inputs: Sequence[list[int]]) -> Iterator[tuple[list[int], np.ndarray]]:
        tokens = load_tokenizer().convert_ids_to_tokens(inputs[0])[1:-1]
        word_tags = {"▁Nord": "B-ORG", "Stream": "I-ORG", "▁AG": "I-ORG"}
        probs = np.zeros((1, len(tokens) + 2, len(TAGS)), np.float32)
        for i, token in enumerate(tokens, start=1):
            probs[0, i, TAGS.index(word_tags.get(token, "O"))] = 1.0
        yield [0], probs


def test_a_bare_space_token_does_not_split_a_name_in_decoding() -> None:
    tokens = load_tokenizer().tokenize(NORD)
    assert tokens[tokens.index("▁Nord") + 1] == "▁"
    (spans,) = _BareSpaceSaysO().predict([NORD])
    assert [(NORD[s.start : s.end], s.label) for s in spans] == [("Nord Stream AG", "ORG")]
