"""The e5 stance head: targets marked and pooled from one pass per text, a short real training
run, inference against torch, scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.build.head_config import HeadConfig
from pipeline.nlp.e5.runner import softmax
from pipeline.nlp.e5.stance import MAX_TOKENS, E5Stance, encode_inputs, marked
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.nlp.types import StanceInput
from pipeline.train.loop import Feature, collate, soft_nll
from pipeline.train.model import (
    E5Classifier,
    SpanPooledForSequenceClassification,
    export_hf,
    load_tokenizer,
)
from pipeline.train.stance import f1_scores, stance_features
from pipeline.train.stance_data import STANCE_LABELS
from tests.synthetic import STANCE_EXAMPLES

TEXT = "Путін зустрів Токаєва, а Токаєв промовчав."
INPUTS = [
    StanceInput("Токаєв", TEXT, ((14, 21), (25, 31))),
    StanceInput("Путін", TEXT, ((0, 5),)),
    StanceInput("переговори", "Сторони домовилися про прямі переговори."),
    StanceInput("Russia", "A long text. " * 200),
]


def _tokens(ids: list[int], positions: tuple[int, ...]) -> str:
    return load_tokenizer().decode([ids[i] for i in positions]).strip()


def test_entities_of_one_text_share_an_input_each_pooled_from_its_marked_mentions() -> None:
    encoded, where = encode_inputs(load_serving_tokenizer(), INPUTS)
    assert len(encoded) == 3 and where[:2] == [(0, 0), (0, 1)] and where[2][0] == 1
    sentence = encoded[0]
    assert load_tokenizer().decode(sentence.input_ids) == (
        "<s> [[ Путін ]] зустрів [[ Токаєва ]], а [[ Токаєв ]] промовчав.</s>"
    )
    assert _tokens(sentence.input_ids, sentence.pools[0]) == "[[ Токаєва ]] [[ Токаєв ]]"
    assert _tokens(sentence.input_ids, sentence.pools[1]) == "[[ Путін ]]"


def test_marks_go_around_each_mention_and_skip_what_cannot_be_one() -> None:
    text = "Kyiv and Lviv, and Kyiv again."
    assert marked(text, [(19, 23), (0, 4)]) == (
        "[[ Kyiv ]] and Lviv, and [[ Kyiv ]] again.",
        {(0, 4): (0, 10), (19, 23): (25, 35)},
    )
    assert marked(text, [(0, 4), (2, 8)])[0] == "[[ Kyiv ]] and Lviv, and Kyiv again."  # overlap
    assert marked(text, [(25, 99), (3, 3)]) == (text, {})  # outside the text, empty


def test_a_topic_follows_its_evidence_as_a_second_segment_and_long_text_is_cut() -> None:
    encoded, where = encode_inputs(load_serving_tokenizer(), INPUTS)
    topic = encoded[where[2][0]]
    assert load_tokenizer().decode(topic.input_ids) == (
        "<s> Сторони домовилися про прямі переговори.</s></s> переговори</s>"
    )
    assert _tokens(topic.input_ids, topic.pools[0]) == "переговори"
    long = encoded[where[3][0]]
    assert len(long.input_ids) == MAX_TOKENS and _tokens(long.input_ids, long.pools[0]) == "Russia"


def test_a_mention_cut_off_with_its_text_leaves_the_whole_text_as_the_target() -> None:
    text = "слово " * 400 + "Київ"
    inputs = [StanceInput("Київ", text, ((2400, 2404),))]
    encoded, _ = encode_inputs(load_serving_tokenizer(), inputs)
    assert encoded[0].pools[0] == tuple(range(1, MAX_TOKENS - 1))


def test_soft_nll_is_cross_entropy_for_one_hot_aims_and_follows_soft_ones() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    one_hot = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor([1, 0]))
    assert soft_nll(logits, one_hot) == pytest.approx(expected.item(), rel=1e-5)
    weighted = soft_nll(logits, one_hot, torch.tensor([3.0, 1.0, 1.0]))
    by_hand = (1.0 * _nll(logits[0], 1) + 3.0 * _nll(logits[1], 0)) / 4.0
    assert weighted == pytest.approx(by_hand, rel=1e-5)
    aim = torch.tensor([[0.2, 0.5, 0.3]])
    best = soft_nll(aim.log(), aim)  # the loss is lowest where the prediction is the aim
    assert best < soft_nll(torch.zeros(1, 3), aim) and best < soft_nll(logits[:1], aim)


def _nll(logits: torch.Tensor, label: int) -> float:
    return float(-logits.log_softmax(-1)[label])


def test_a_teachers_distribution_is_what_its_target_aims_at() -> None:
    features = stance_features(load_serving_tokenizer(), STANCE_EXAMPLES)
    aims = [a for f in features for a in f.soft]
    assert len(aims) == len(STANCE_EXAMPLES) and (0.7, 0.1, 0.2) in aims
    assert sorted(aims).count((0.0, 1.0, 0.0)) == 2  # the two `against` labels, one-hot
    shared = next(f for f in features if len(f.pools) == 2)  # one sentence, two targets
    assert [STANCE_LABELS[i] for i in shared.labels] == ["against", "neutral"]


def test_f1_scores() -> None:
    gold = ["favor", "against", "neutral", "neutral"]
    predicted = ["favor", "neutral", "neutral", "against"]
    scores = f1_scores(gold, predicted)
    assert scores["favor"] == 1.0 and scores["against"] == 0.0 and scores["neutral"] == 0.5
    assert scores["pn_f1"] == 0.5 and scores["macro_f1"] == 0.5 and scores["accuracy"] == 0.5


def test_onnx_judges_each_target_as_the_trained_torch_head(e5_stance_head: Path) -> None:
    classifier = E5Stance(e5_stance_head, backend="onnx-fp32")
    probs = classifier.distributions(INPUTS)
    assert probs.shape == (4, 3) and set(classifier.labels) == {"favor", "against", "neutral"}
    assert classifier.distributions([]).shape == (0, 3)
    model = E5Classifier.load(e5_stance_head).for_inference()
    encoded, where = encode_inputs(load_serving_tokenizer(), INPUTS)
    features = [Feature(e.input_ids, [0] * len(e.pools), pools=tuple(e.pools)) for e in encoded]
    ids, mask, _, pools = collate(features, pad_id=1)
    with torch.inference_mode():
        logits = model(ids, mask, pools)
    first = np.cumsum([0, *(len(e.pools) for e in encoded)])
    expected = softmax(logits.numpy()[[first[row] + pool for row, pool in where]])
    assert np.allclose(probs, expected, atol=1e-5)
    assert not np.allclose(probs[0], probs[1], atol=1e-3)  # two targets, one pass, two answers


def test_the_heads_temperature_softens_its_probabilities(e5_stance_head: Path, tmp_path) -> None:
    before = E5Stance(e5_stance_head).distributions(INPUTS[:1])
    hot = tmp_path / "head"
    shutil.copytree(e5_stance_head, hot)
    config = HeadConfig.read(hot)
    config.temperature = 4.0
    config.write(hot)
    after = E5Stance(hot).distributions(INPUTS[:1])
    assert after.argmax() == before.argmax() and after.max() < before.max()
    assert np.allclose(after, softmax(np.log(before) / 4.0), atol=1e-5)


def test_the_exported_hugging_face_model_judges_a_topic_as_the_head(
    e5_stance_head: Path, tmp_path: Path
) -> None:
    topic = INPUTS[2:3]
    ours = E5Stance(e5_stance_head, backend="onnx-fp32").distributions(topic)
    exported = SpanPooledForSequenceClassification.from_pretrained(
        export_hf(e5_stance_head, tmp_path, None)
    )
    ids = torch.tensor([encode_inputs(load_serving_tokenizer(), topic)[0][0].input_ids])
    with torch.inference_mode():
        logits = exported(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    assert exported.config.id2label == {0: "favor", 1: "against", 2: "neutral"}
    assert np.allclose(logits.softmax(-1).numpy(), ours, atol=1e-4)
