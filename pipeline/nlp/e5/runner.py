"""What every e5 head does at inference: load on a backend, batch inputs of similar length,
return class probabilities. numpy and ONNX Runtime only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.build.head_config import HeadConfig
from pipeline.nlp.e5.sessions import load_classifier
from pipeline.nlp.e5.tokens import load_serving_tokenizer
from pipeline.nlp.types import ModelInfo


def pad_batch(batch: Sequence[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token id lists to one int64 array, with its attention mask."""
    width = max(len(ids) for ids in batch)
    ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, item in enumerate(batch):
        ids[row, : len(item)] = item
        mask[row, : len(item)] = 1
    return ids, mask


TOKEN_BUDGET = 4096  # padded tokens per forward pass: 8 windows of 512
# The cost of one forward pass over rows × width padded tokens, in tokens' worth of work:
# CALL_TOKENS + rows·width·(1 + width / ATTENTION_WIDTH). ATTENTION_WIDTH is fitted to int8
# ONNX Runtime passes on 2 cores (one row of 8 tokens 3.2 ms, 32 × 32 84 ms, 32 × 130 499 ms);
# the passes alone gave CALL_TOKENS 36, whole articles (tokenising, padding and decoding around
# each pass) ran fastest with 60 to 120.
CALL_TOKENS = 80
ATTENTION_WIDTH = 300


def pass_cost(rows: int, width: int) -> float:
    """One forward pass's work, in tokens' worth (the model above)."""
    return CALL_TOKENS + rows * width * (1 + width / ATTENTION_WIDTH)


def length_batches(inputs: Sequence[list[int]], batch_size: int) -> Iterator[list[int]]:
    """Indices into inputs, one list per forward pass, shortest first: the inputs sorted by
    length and cut where the passes cost least in all (`pass_cost`: padding against each
    pass's fixed cost, so one article's 30 sentences of 5 to 128 tokens are not all padded to
    128), each at most batch_size rows and TOKEN_BUDGET padded tokens (attention memory grows
    with rows × length²)."""
    order = sorted(range(len(inputs)), key=lambda k: len(inputs[k]))
    widths = [len(inputs[k]) for k in order]
    # best[end]: the least cost of the first `end` sorted inputs; start[end]: its last cut.
    best, start = [0.0] + [float("inf")] * len(order), [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        width = widths[end - 1]  # the longest of any pass ending here
        for first in range(end - 1, max(end - batch_size, 0) - 1, -1):
            rows = end - first
            if rows > 1 and rows * width > TOKEN_BUDGET:
                break
            cost = best[first] + pass_cost(rows, width)
            if cost < best[end]:
                best[end], start[end] = cost, first
    cuts, end = [], len(order)
    while end:
        cuts.append((start[end], end))
        end = start[end]
    for first, end in reversed(cuts):
        yield order[first:end]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


class HeadRunner:
    """A trained head ready for inference; the NER and stance backends build on it and name
    their `task`."""

    task: str

    def __init__(
        self,
        head_dir: Path,
        base_dir: Path | None = None,
        batch_size: int = 32,
        backend: str = "onnx-int8",
        threads: int = 0,
    ) -> None:
        """backend: "onnx-int8" or "onnx-fp32";
        threads: ONNX Runtime intra-op threads (0: one per physical core)."""
        config = HeadConfig.read(head_dir)
        self.labels = config.labels
        self.temperature = config.temperature
        self.info = ModelInfo(self.task, f"e5-small+{head_dir.name}", config.version)
        self.model = load_classifier(head_dir, base_dir, backend, threads)
        self.tokenizer = load_serving_tokenizer(base_dir)
        self.batch_size = batch_size

    def outputs(self, inputs: Sequence[list[int]]) -> Iterator[tuple[list[int], Any]]:
        """(indices into inputs, what the model returns for them) per length batch."""
        for rows in length_batches(inputs, self.batch_size):
            ids, mask = pad_batch([inputs[i] for i in rows], self.tokenizer.pad_token_id)
            yield rows, self.model(ids, mask)

    def probabilities(self, inputs: Sequence[list[int]]) -> Iterator[tuple[list[int], np.ndarray]]:
        """(indices into inputs, their class probabilities) per length batch."""
        for rows, logits in self.outputs(inputs):
            yield rows, softmax(logits / self.temperature)
