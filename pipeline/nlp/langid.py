"""Language identification with lingua, for articles that do not say their language."""

from __future__ import annotations

from functools import cache
from importlib.metadata import version

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from pipeline.nlp.types import ModelInfo

INFO = ModelInfo("langid", "lingua", version("lingua-language-detector"))
_SAMPLE_CHARS = 2000  # enough for a confident answer; keeps long articles cheap


@cache
def detector(languages: tuple[str, ...]) -> LanguageDetector:
    """A detector for the given ISO 639-1 codes (models preloaded: ~20 MB per language)."""
    codes = [IsoCode639_1.from_str(code) for code in languages]
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        .with_preloaded_language_models()
        .build()
    )


def detect(text: str, languages: tuple[str, ...]) -> tuple[str, float] | None:
    """(ISO 639-1 code, confidence) of the most likely language, or None when unknown."""
    values = detector(languages).compute_language_confidence_values(text[:_SAMPLE_CHARS])
    if not values or values[0].value == 0:
        return None
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), round(best.value, 4)
