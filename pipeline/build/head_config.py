"""What a head folder holds and how it is described; no torch, so serving can read it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

HEAD_FILE = "head.json"
WEIGHTS_FILE = "weights.safetensors"


@dataclass
class HeadConfig:
    """What a head predicts and how its adapters are shaped."""

    task: str  # "token" (one label per token) or "span" (one label per target in an input)
    labels: list[str]
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    first_adapted_layer: int = 4  # layers below stay frozen and need no backward pass
    target_modules: list[str] = field(
        default_factory=lambda: [
            "query",
            "key",
            "value",
            "attention.output.dense",
            "intermediate.dense",
            "output.dense",
        ]
    )
    # Lower layers whose feed-forward output projection stays fp32 in the int8 export: its
    # inputs (GELU outputs) have outliers that ONNX Runtime's one int8 scale per batch flattens.
    # Set per head from evaluation (MODEL_CARD.md): 0 keeps every projection int8.
    int8_fp32_ffn_layers: int = 0
    # 7-bit int8 weights (ONNX Runtime's reduce_range): a CPU without VNNI adds pairs of int8
    # products in 16 bits, which 8-bit weights can overflow and 7-bit ones cannot, so the head
    # then gives the same int8 results on every x86 CPU. Set per head from evaluation.
    int8_reduce_range: bool = False
    # Logits are divided by it before the softmax, so that a probability of 0.8 is right about
    # 80 % of the time: fitted on held-out data (`pipeline eval stance --calibrate`); 1.0: not.
    temperature: float = 1.0
    version: str = "untrained"

    def write(self, folder: Path) -> None:
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"
        (folder / HEAD_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> HeadConfig:
        return cls(**json.loads((folder / HEAD_FILE).read_text(encoding="utf-8")))
