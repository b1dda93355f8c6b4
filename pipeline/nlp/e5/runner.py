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


def length_batches(inputs: Sequence[list[int]], batch_size: int) -> Iterator[list[int]]:
    """Indices into inputs, one list per forward pass: grouped by length so that little
    padding is computed, at most batch_size rows and TOKEN_BUDGET padded tokens per pass
    (attention memory grows with rows × length²)."""
    rows: list[int] = []
    for k in sorted(range(len(inputs)), key=lambda k: len(inputs[k])):
        width = len(inputs[k])  # the longest so far: inputs come shortest first
        if rows and (len(rows) == batch_size or (len(rows) + 1) * width > TOKEN_BUDGET):
            yield rows
            rows = []
        rows.append(k)
    if rows:
        yield rows


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
