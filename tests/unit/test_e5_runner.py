"""Serving's length batches: every input once, within the limits, cut where padding costs more
than another pass."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.nlp.e5.runner import TOKEN_BUDGET, length_batches, pass_cost


def _cost(inputs: list[list[int]], batches: list[list[int]]) -> float:
    return sum(pass_cost(len(rows), max(len(inputs[k]) for k in rows)) for rows in batches)


def _greedy(inputs: list[list[int]], batch_size: int) -> list[list[int]]:
    """The batching it replaced: sorted, cut only at batch_size rows or the token budget."""
    batches: list[list[int]] = [[]]
    for k in sorted(range(len(inputs)), key=lambda k: len(inputs[k])):
        rows = batches[-1]
        if rows and (len(rows) == batch_size or (len(rows) + 1) * len(inputs[k]) > TOKEN_BUDGET):
            batches.append(rows := [])
        rows.append(k)
    return [rows for rows in batches if rows]


@given(
    lengths=st.lists(st.integers(1, 600), max_size=120),
    batch_size=st.integers(1, 40),
)
def test_each_input_once_shortest_first_within_limits_and_never_costlier(
    lengths: list[int], batch_size: int
) -> None:
    inputs = [[0] * n for n in lengths]
    batches = list(length_batches(inputs, batch_size))
    assert sorted(k for rows in batches for k in rows) == list(range(len(inputs)))
    flat = [len(inputs[k]) for rows in batches for k in rows]
    assert flat == sorted(flat)
    for rows in batches:
        width = max(len(inputs[k]) for k in rows)
        assert len(rows) <= batch_size
        assert len(rows) == 1 or len(rows) * width <= TOKEN_BUDGET
    assert _cost(inputs, batches) <= _cost(inputs, _greedy(inputs, batch_size)) + 1e-6


def test_one_articles_short_and_long_sentences_are_not_padded_together() -> None:
    inputs = [[0] * n for n in [6, 8, 7, 128, 9, 120, 126, 5]]
    batches = list(length_batches(inputs, batch_size=32))
    assert [sorted(len(inputs[k]) for k in rows) for rows in batches] == [
        [5, 6, 7, 8, 9],
        [120, 126, 128],
    ]


def test_inputs_of_one_length_fill_whole_batches() -> None:
    inputs = [[0] * 16 for _ in range(64)]
    assert [len(rows) for rows in length_batches(inputs, batch_size=32)] == [32, 32]
