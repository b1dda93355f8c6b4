"""e5-small with a trained head as an ONNX graph, written from the weights with onnx's helpers.

No torch: the base's weights come from the converted folder (safetensors, read as numpy), the
head's LoRA adapters are folded into them here (W + alpha/r · B·A, what peft's merge does), and
the graph is spelled out op by op the way torch's exporter spelled BERT (MatMul + Add per
linear layer, erf GELU, LayerNormalization), so ONNX Runtime fuses and quantises it alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

from pipeline.build.head_config import WEIGHTS_FILE, HeadConfig

OPSET = 17
INPUTS = ("input_ids", "attention_mask")
LORA_PREFIX = "encoder.base_model.model."  # where peft keeps the base's names in a head file


def ffn_output_matmul(layer: int) -> str:
    """The node name of a layer's feed-forward output projection (int8 may leave it fp32)."""
    return f"encoder.layer.{layer}.output.dense/MatMul"


def merged_weights(base_dir: Path, head_dir: Path | None = None) -> dict[str, np.ndarray]:
    """The base's weights with the head's adapters folded in, and its classifier."""
    weights = load_file(str(base_dir / "model.safetensors"))
    if head_dir is None:
        return weights
    config = HeadConfig.read(head_dir)
    trained = load_file(str(head_dir / WEIGHTS_FILE))
    scale = config.lora_alpha / config.lora_r
    for name, a in trained.items():
        if ".lora_A." in name:
            module = name.removeprefix(LORA_PREFIX).split(".lora_A.")[0]
            b = trained[name.replace(".lora_A.", ".lora_B.")]
            weights[f"{module}.weight"] = weights[f"{module}.weight"] + scale * (b @ a)
    weights["classifier.weight"] = trained["classifier.weight"]
    weights["classifier.bias"] = trained["classifier.bias"]
    return weights


@dataclass
class _Graph:
    """Nodes and initialisers being collected; every value gets a readable, unique name."""

    weights: Mapping[str, np.ndarray]
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: dict[str, onnx.TensorProto] = field(default_factory=dict)

    def const(self, name: str, value: np.ndarray) -> str:
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(value, name)
        return name

    def weight(self, name: str, transpose: bool = False) -> str:
        value = self.weights[name]
        return self.const(
            name + (".T" if transpose else ""), value.T.copy() if transpose else value
        )

    def op(self, op_type: str, inputs: list[str], name: str, **attributes: object) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attributes))
        return name

    def linear(self, x: str, module: str) -> str:
        product = self.op("MatMul", [x, self.weight(f"{module}.weight", True)], f"{module}/MatMul")
        return self.op("Add", [product, self.weight(f"{module}.bias")], f"{module}/Add")

    def layer_norm(self, x: str, module: str, eps: float) -> str:
        scale, bias = self.weight(f"{module}.weight"), self.weight(f"{module}.bias")
        return self.op("LayerNormalization", [x, scale, bias], module, axis=-1, epsilon=eps)


def _embeddings(g: _Graph, eps: float) -> str:
    words = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"], "words")
    shape = g.op("Shape", ["input_ids"], "input_shape")
    length = g.op("Gather", [shape, g.const("one", np.array(1, np.int64))], "length")
    zero, step = g.const("zero", np.array(0, np.int64)), g.const("step", np.array(1, np.int64))
    positions = g.op("Range", [zero, length, step], "positions")
    table = g.weight("embeddings.position_embeddings.weight")
    position = g.op("Gather", [table, positions], "position_vectors")
    token_type = g.const("token_type", g.weights["embeddings.token_type_embeddings.weight"][0])
    summed = g.op("Add", [g.op("Add", [words, position], "words+positions"), token_type], "summed")
    return g.layer_norm(summed, "embeddings.LayerNorm", eps)


def _attention(g: _Graph, x: str, prefix: str, additive_mask: str, heads: int, size: int) -> str:
    split = g.const("split_heads", np.array([0, 0, heads, size // heads], np.int64))
    query, key, value = (
        g.op(
            "Reshape", [g.linear(x, f"{prefix}.self.{part}"), split], f"{prefix}.self.{part}/heads"
        )
        for part in ("query", "key", "value")
    )
    q = g.op("Transpose", [query], f"{prefix}/q", perm=[0, 2, 1, 3])
    k = g.op("Transpose", [key], f"{prefix}/k", perm=[0, 2, 3, 1])
    v = g.op("Transpose", [value], f"{prefix}/v", perm=[0, 2, 1, 3])
    scores = g.op("MatMul", [q, k], f"{prefix}/scores")
    root = g.const("head_size_root", np.array(np.sqrt(size // heads), np.float32))
    scaled = g.op("Div", [scores, root], f"{prefix}/scaled")
    masked = g.op("Add", [scaled, additive_mask], f"{prefix}/masked")
    probs = g.op("Softmax", [masked], f"{prefix}/probs", axis=-1)
    context = g.op("MatMul", [probs, v], f"{prefix}/context")
    merged = g.op("Transpose", [context], f"{prefix}/context_t", perm=[0, 2, 1, 3])
    joined = g.const("join_heads", np.array([0, 0, size], np.int64))
    return g.op("Reshape", [merged, joined], f"{prefix}/joined")


def _gelu(g: _Graph, x: str, prefix: str) -> str:
    """Exact GELU, x·(1 + erf(x/√2))/2, as BERT's "gelu" computes it."""
    root2 = g.const("sqrt2", np.array(np.sqrt(2.0), np.float32))
    one, half = (
        g.const("one_f", np.array(1.0, np.float32)),
        g.const("half", np.array(0.5, np.float32)),
    )
    erf = g.op("Erf", [g.op("Div", [x, root2], f"{prefix}/scaled")], f"{prefix}/erf")
    gate = g.op("Add", [erf, one], f"{prefix}/1+erf")
    return g.op("Mul", [g.op("Mul", [x, gate], f"{prefix}/x"), half], prefix)


def _layer(g: _Graph, x: str, i: int, additive_mask: str, config: dict) -> str:
    prefix, eps = f"encoder.layer.{i}", config["layer_norm_eps"]
    heads, size = config["num_attention_heads"], config["hidden_size"]
    context = _attention(g, x, f"{prefix}.attention", additive_mask, heads, size)
    projected = g.linear(context, f"{prefix}.attention.output.dense")
    attended = g.op("Add", [projected, x], f"{prefix}.attention/residual")
    x = g.layer_norm(attended, f"{prefix}.attention.output.LayerNorm", eps)
    inner = _gelu(g, g.linear(x, f"{prefix}.intermediate.dense"), f"{prefix}.intermediate/gelu")
    out = g.op("Add", [g.linear(inner, f"{prefix}.output.dense"), x], f"{prefix}.output/residual")
    return g.layer_norm(out, f"{prefix}.output.LayerNorm", eps)


def _additive_mask(g: _Graph, mask: str) -> str:
    """0 where a token is attended to, the lowest float where it is padding (BERT's way)."""
    axes = g.const("mask_axes", np.array([1, 2], np.int64))
    one = g.const("one_f", np.array(1.0, np.float32))
    padding = g.op("Sub", [one, g.op("Unsqueeze", [mask, axes], "mask_4d")], "padding")
    lowest = g.const("lowest", np.array(np.finfo(np.float32).min, np.float32))
    return g.op("Mul", [padding, lowest], "additive_mask")


def _mean_pool(g: _Graph, hidden: str, mask: str) -> str:
    """e5's pooling: the attention-mask mean of the last hidden states."""
    weights = g.op("Unsqueeze", [mask, g.const("last_axis", np.array([-1], np.int64))], "pool/mask")
    axis = g.const("token_axis", np.array([1], np.int64))
    total = g.op(
        "ReduceSum", [g.op("Mul", [hidden, weights], "pool/masked"), axis], "pool/sum", keepdims=0
    )
    count = g.op("ReduceSum", [weights, axis], "pool/count", keepdims=0)
    floor = g.const("count_floor", np.array(1.0, np.float32))
    return g.op("Div", [total, g.op("Max", [count, floor], "pool/count_floor")], "pooled")


def outputs(task: str | None) -> tuple[str, ...]:
    """The graph's outputs for a head's task (None: the bare embedder). A span head's logits
    come in two parts, per token and per input, summed per target outside the graph (see
    `pipeline.nlp.e5.stance.target_logits`): one pass then serves any number of targets."""
    if task is None:
        return ("embeddings",)
    return ("token_logits", "sentence_logits") if task == "span" else ("logits",)


def _span_classifiers(weights: dict[str, np.ndarray], hidden_size: int) -> None:
    """The span classifier reads [target mean; sentence mean]: split in a per-token part (no
    bias: it is averaged over the target's tokens) and a per-input part."""
    weight, bias = weights["classifier.weight"], weights["classifier.bias"]
    weights["target_classifier.weight"] = weight[:, :hidden_size]
    weights["target_classifier.bias"] = np.zeros_like(bias)
    weights["sentence_classifier.weight"] = weight[:, hidden_size:]
    weights["sentence_classifier.bias"] = bias


def encoder_graph(base_dir: Path, head_dir: Path | None) -> onnx.ModelProto:
    """input_ids, attention_mask (int64, batch × tokens) → a head's logits (per token, or both
    parts of a span head's) or, without a head, e5's L2-normalised mean-pooled embedding."""
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    task = HeadConfig.read(head_dir).task if head_dir else None
    weights = merged_weights(base_dir, head_dir)
    if task == "span":
        _span_classifiers(weights, config["hidden_size"])
    g = _Graph(weights)
    mask = g.op("Cast", ["attention_mask"], "mask", to=TensorProto.FLOAT)
    additive_mask = _additive_mask(g, mask)
    hidden = _embeddings(g, config["layer_norm_eps"])
    for i in range(config["num_hidden_layers"]):
        hidden = _layer(g, hidden, i, additive_mask, config)
    names = outputs(task)
    per_input, per_token = ["batch", None], ["batch", "tokens", None]
    if task is None:
        pooled = _mean_pool(g, hidden, mask)
        g.op("LpNormalization", [pooled], names[0], axis=-1, p=2)
        shapes = [per_input]
    elif task == "token":
        g.op("Identity", [g.linear(hidden, "classifier")], names[0])
        shapes = [per_token]
    else:
        g.op("Identity", [g.linear(hidden, "target_classifier")], names[0])
        pooled = _mean_pool(g, hidden, mask)
        g.op("Identity", [g.linear(pooled, "sentence_classifier")], names[1])
        shapes = [per_token, per_input]
    tokens = ["batch", "tokens"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, tokens) for n in INPUTS]
    values = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)
        for n, shape in zip(names, shapes, strict=True)
    ]
    name = f"e5-small+{head_dir.name}" if head_dir else "e5-small-embedder"
    graph = helper.make_graph(g.nodes, name, inputs, values, list(g.initializers.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # readable by every ONNX Runtime since 1.11
    onnx.checker.check_model(model, full_check=False)
    return model
