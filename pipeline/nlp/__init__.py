"""Language processing: no Kafka, no Faust. `load_tagger` picks a backend by name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from pipeline import TRAIN_EXTRA, TRAIN_INSTALL
from pipeline.nlp.identity import load_resolver
from pipeline.nlp.tagger import ModelTagger
from pipeline.nlp.types import Tagger

TAGGERS = ("e5", "hf", "null")


def load_tagger(
    name: str,
    *,
    ner_model: str = "",
    stance_model: str = "",
    topics: Sequence[str] = (),
    threads: int = 0,
    base_dir: Path | None = None,
    backend: str = "onnx-int8",
    aliases: Path | None = None,
) -> Tagger:
    """Build the configured tagger.

    `e5`: our heads on the e5-small base (model paths default to the heads shipped in the
    package; base_dir is where the converted base is cached; backend: onnx-int8 or onnx-fp32,
    see pipeline.nlp.e5.sessions). `hf`: any Hugging Face models, at least one of the two
    (needs the `train` extra: torch and transformers). `null`: no model.
    `package.module:callable`: your own Tagger, made by calling that with no arguments.
    Entities are identified with the alias table at `aliases` (default: the shipped one); a
    table that cannot be read raises AliasTableError.
    """
    resolver = load_resolver(aliases)
    if name == "null":
        return ModelTagger(None, None)
    if ":" in name:
        return _custom_tagger(name)
    if name not in TAGGERS:
        raise ValueError(
            f"unknown tagger {name!r}; choose one of {', '.join(TAGGERS)} or module:callable"
        )
    if name == "hf" and not (ner_model or stance_model):
        raise ValueError("the hf tagger needs PIPELINE_NER_MODEL and/or PIPELINE_STANCE_MODEL")
    if name == "hf":
        try:
            from pipeline.nlp.hf import HFEntityRecognizer, HFNliStance, set_threads
        except ModuleNotFoundError as missing:
            if missing.name not in TRAIN_EXTRA:
                raise
            raise ModuleNotFoundError(
                f"the hf tagger needs {missing.name}: {TRAIN_INSTALL}", name=missing.name
            ) from missing

        set_threads(threads)

        ner = HFEntityRecognizer(ner_model) if ner_model else None
        stance = HFNliStance(stance_model) if stance_model else None
        return ModelTagger(ner, stance, topics, resolver=resolver)
    from pipeline.nlp.e5 import E5EntityRecognizer, E5Stance, head_folder
    from pipeline.nlp.e5.topics import E5TopicMatcher

    e5 = {"base_dir": base_dir, "backend": backend, "threads": threads}
    ner = E5EntityRecognizer(head_folder("ner", ner_model), **e5)
    stance = E5Stance(head_folder("stance", stance_model), **e5)
    return ModelTagger(ner, stance, topics, E5TopicMatcher(**e5), resolver)


def _custom_tagger(spec: str) -> Tagger:
    module_name, _, attribute = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(factory):
        raise ValueError(f"no callable {attribute!r} in {module_name}")
    return factory()
