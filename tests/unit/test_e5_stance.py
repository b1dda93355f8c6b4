"""The e5 stance head: pair encoding, a short real training run, inference, scores."""

from __future__ import annotations

from pathlib import Path

from pipeline.nlp.e5.model import load_tokenizer
from pipeline.nlp.e5.stance import MAX_TOKENS, E5Stance, encode_pairs
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.train.stance import f1_scores


def test_pairs_put_the_target_first_and_truncate_the_text() -> None:
    pairs = [("Токаєв", "Він прибув."), ("Токаєв", "слово " * 1000)]
    short, long = encode_pairs(load_serving_tokenizer(), pairs)
    assert load_tokenizer().decode(short) == "<s> Токаєв</s></s> Він прибув.</s>"
    assert len(long) == MAX_TOKENS and long[:6] == short[:6]  # <s> target </s></s> …


def test_f1_scores() -> None:
    gold = ["favor", "against", "neutral", "neutral"]
    predicted = ["favor", "neutral", "neutral", "against"]
    scores = f1_scores(gold, predicted)
    assert scores["favor"] == 1.0 and scores["against"] == 0.0 and scores["neutral"] == 0.5
    assert scores["pn_f1"] == 0.5 and scores["macro_f1"] == 0.5 and scores["accuracy"] == 0.5


def test_training_saves_a_head_that_classifies_pairs(e5_stance_head: Path) -> None:
    classifier = E5Stance(e5_stance_head)
    pairs = [("Токаєв", "Токаєв підтримав переговори."), ("Russia", "A long text. " * 200)]
    scores = classifier.predict(pairs)
    assert len(scores) == 2
    assert all(s.label in {"favor", "against", "neutral"} and 1 / 3 <= s.score <= 1 for s in scores)
    assert classifier.predict([]) == []
