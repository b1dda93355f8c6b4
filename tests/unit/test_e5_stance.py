"""The e5 stance head: marked encoding, a short real training run, inference, scores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from pipeline.build.head_config import HeadConfig
from pipeline.nlp.e5.runner import softmax
from pipeline.nlp.e5.stance import MAX_TOKENS, E5Stance, encode_inputs, marked
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.nlp.types import StanceInput
from pipeline.train.model import MeanPooledForSequenceClassification, export_hf, load_tokenizer
from pipeline.train.stance import f1_scores


def test_inputs_put_the_target_first_mark_its_mentions_and_truncate_the_text() -> None:
    inputs = [
        StanceInput("Токаєв", "Токаєва зустрів Путін.", ((0, 7),)),
        StanceInput("Токаєв", "слово " * 1000),
    ]
    short, long = encode_inputs(load_serving_tokenizer(), inputs)
    assert load_tokenizer().decode(short) == "<s> Токаєв</s></s> [[ Токаєва ]] зустрів Путін.</s>"
    assert len(long) == MAX_TOKENS and long[:6] == short[:6]  # <s> target </s></s> …


def test_marks_go_around_each_mention_and_skip_what_cannot_be_one() -> None:
    text = "Kyiv and Lviv, and Kyiv again."
    assert marked(text, [(19, 23), (0, 4)]) == "[[ Kyiv ]] and Lviv, and [[ Kyiv ]] again."
    assert marked(text, [(0, 4), (2, 8)]) == "[[ Kyiv ]] and Lviv, and Kyiv again."  # overlap
    assert marked(text, [(25, 99), (3, 3)]) == text  # outside the text, empty
    assert marked(text, []) == text


def test_f1_scores() -> None:
    gold = ["favor", "against", "neutral", "neutral"]
    predicted = ["favor", "neutral", "neutral", "against"]
    scores = f1_scores(gold, predicted)
    assert scores["favor"] == 1.0 and scores["against"] == 0.0 and scores["neutral"] == 0.5
    assert scores["pn_f1"] == 0.5 and scores["macro_f1"] == 0.5 and scores["accuracy"] == 0.5


def test_training_saves_a_head_that_classifies_inputs(e5_stance_head: Path) -> None:
    classifier = E5Stance(e5_stance_head)
    inputs = [
        StanceInput("Токаєв", "Токаєв підтримав переговори.", ((0, 6),)),
        StanceInput("Russia", "A long text. " * 200),
    ]
    probs = classifier.distributions(inputs)
    assert probs.shape == (2, 3) and set(classifier.labels) == {"favor", "against", "neutral"}
    assert np.allclose(probs.sum(-1), 1, atol=1e-5) and (probs.max(-1) >= 1 / 3).all()
    assert classifier.distributions([]).shape == (0, 3)


def test_the_heads_temperature_softens_its_probabilities(e5_stance_head: Path, tmp_path) -> None:
    inputs = [StanceInput("Токаєв", "Токаєв підтримав переговори.", ((0, 6),))]
    before = E5Stance(e5_stance_head).distributions(inputs)
    hot = tmp_path / "head"
    shutil.copytree(e5_stance_head, hot)
    config = HeadConfig.read(hot)
    config.temperature = 4.0
    config.write(hot)
    after = E5Stance(hot).distributions(inputs)
    assert after.argmax() == before.argmax() and after.max() < before.max()
    assert np.allclose(after, softmax(np.log(before) / 4.0), atol=1e-5)


def test_the_exported_hugging_face_model_judges_as_the_head(
    e5_stance_head: Path, tmp_path: Path
) -> None:
    inputs = [StanceInput("Токаєв", "Токаєв підтримав переговори.", ((0, 6),))]
    ours = E5Stance(e5_stance_head, backend="onnx-fp32").distributions(inputs)
    exported = MeanPooledForSequenceClassification.from_pretrained(
        export_hf(e5_stance_head, tmp_path, None)
    )
    ids = torch.tensor(encode_inputs(load_serving_tokenizer(), inputs))
    with torch.inference_mode():
        logits = exported(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    assert exported.config.id2label == {0: "favor", 1: "against", 2: "neutral"}
    assert np.allclose(logits.softmax(-1).numpy(), ours, atol=1e-4)
