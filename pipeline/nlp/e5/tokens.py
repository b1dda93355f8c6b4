"""e5's tokenizer for training and serving, read with the `tokenizers` library alone.

transformers imports torch (500 MB resident) as soon as its tokenizer is imported; serving on
ONNX Runtime needs neither. `E5Tokenizer` answers the calls the shared encoding functions make
(`windows`, `encode_inputs`, training's `features`) as transformers' fast tokenizer would; a
test holds the two to the same ids and offsets.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from pipeline.build.convert import ensure_base_model


class E5Tokenizer:
    """tokenizer.json of the converted base, called like `PreTrainedTokenizerFast`."""

    def __init__(self, path: Path) -> None:
        self._tokenizer = Tokenizer.from_file(str(path))
        self.pad_token_id = self._tokenizer.token_to_id("<pad>")
        self.cls_token_id = self._tokenizer.token_to_id("<s>")
        self.sep_token_id = self._tokenizer.token_to_id("</s>")

    def __call__(
        self,
        text: list[str],
        text_pair: list[str] | None = None,
        *,
        add_special_tokens: bool = True,
        truncation: bool | str = False,
        max_length: int | None = None,
        return_offsets_mapping: bool = False,
        return_attention_mask: bool = False,
    ) -> dict[str, Any]:
        """input_ids (and offset_mapping) of each text or pair; no attention mask (padding
        happens later, per batch)."""
        if truncation and max_length:
            strategy = truncation if isinstance(truncation, str) else "longest_first"
            self._tokenizer.enable_truncation(max_length, strategy=strategy)
        else:
            self._tokenizer.no_truncation()
        inputs = list(zip(text, text_pair, strict=True)) if text_pair is not None else text
        encodings = self._tokenizer.encode_batch(inputs, add_special_tokens=add_special_tokens)
        result: dict[str, Any] = {"input_ids": [e.ids for e in encodings]}
        if return_offsets_mapping:
            result["offset_mapping"] = [e.offsets for e in encodings]
        return result


@cache
def load_serving_tokenizer(base_dir: Path | None = None) -> E5Tokenizer:
    """One per base for the process: the heads and the topic matcher share it."""
    return E5Tokenizer(ensure_base_model(base_dir) / "tokenizer.json")
