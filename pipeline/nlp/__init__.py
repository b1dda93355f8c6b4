"""Language processing: no Kafka, no Faust. `load_tagger` picks a backend by name."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.nlp.tagger import ModelTagger
from pipeline.nlp.types import Tagger

TAGGERS = ("hf", "null")


def load_tagger(
    name: str,
    *,
    ner_model: str = "",
    stance_model: str = "",
    topics: Sequence[str] = (),
    threads: int = 0,
) -> Tagger:
    """Build the configured tagger; `hf` needs at least one of the two model ids or paths."""
    if name == "null":
        return ModelTagger(None, None)
    if name != "hf":
        raise ValueError(f"unknown tagger {name!r}; choose one of {', '.join(TAGGERS)}")
    if not (ner_model or stance_model):
        raise ValueError("the hf tagger needs PIPELINE_NER_MODEL and/or PIPELINE_STANCE_MODEL")
    import torch

    from pipeline.nlp.hf import HFEntityRecognizer, HFNliStance

    if threads > 0:
        torch.set_num_threads(threads)
    ner = HFEntityRecognizer(ner_model) if ner_model else None
    stance = HFNliStance(stance_model) if stance_model else None
    return ModelTagger(ner, stance, topics)
