"""Training and evaluation of the e5 NER head (`pipeline train ner`, `pipeline eval ner`).

Budget-minded for CPUs: the base (embeddings included) is frozen and so are its lower layers;
sentences are bucketed by length with dynamic padding; checkpoints make a run resumable.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm
from transformers import PreTrainedTokenizerFast, get_linear_schedule_with_warmup

from pipeline.nlp.e5.model import E5Classifier, HeadConfig, load_tokenizer
from pipeline.nlp.e5.ner import WINDOW_TOKENS, E5EntityRecognizer, core_offsets, pad_batch
from pipeline.nlp.spans import bio_tags
from pipeline.train import ner_data
from pipeline.train.ner_data import NerExample

IGNORE = -100  # CrossEntropyLoss ignore_index: <s>, </s> and padding
# Held out from training: each corpus's test set and one SlavicNER topic.
EVAL_SOURCES = ("ner-uk:test", "factrueval:test", "conll2003:test", "slavicner:test")
CHECKPOINT = "checkpoint"
FINAL = "final"


@dataclass
class NerTrainConfig:
    """A training run; saved beside its checkpoints so `--resume` continues the same run."""

    sources: list[str] = field(
        default_factory=lambda: [
            "ner-uk:train",
            "factrueval:dev",
            "slavicner:train",
            "conll2003:train",
            "panx:train-uk:8000",
            "panx:train-ru:8000",
            "panx:train-en:4000",
        ]
    )
    labels: list[str] = field(default_factory=lambda: ["PER", "ORG", "LOC"])
    epochs: float = 1.0
    batch_tokens: int = 2048
    lr: float = 5e-4
    warmup: float = 0.06
    seed: int = 13
    checkpoint_every: int = 50


@dataclass(frozen=True, slots=True)
class Feature:
    input_ids: list[int]
    labels: list[int]


def read_sources(sources: Iterable[str], data_dir: Path, seed: int) -> list[NerExample]:
    """`name:split[:cap]` items → examples; a cap keeps a seeded random sample."""
    examples: list[NerExample] = []
    for source in sources:
        name, split, *cap = source.split(":")
        items = ner_data.load(name, split, data_dir)
        if cap and len(items) > int(cap[0]):
            items = random.Random(seed).sample(items, int(cap[0]))
        examples += items
    return examples


def token_labels(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]], tag_ids: dict
) -> list[int]:
    """BIO tag id per token: a token inside an entity is B- if it starts it, else I-."""
    labels, span_index, started = [], 0, False
    for start, end in offsets:
        while span_index < len(spans) and spans[span_index][1] <= start:
            span_index, started = span_index + 1, False
        if span_index < len(spans) and start < end and spans[span_index][0] < end:
            label = spans[span_index][2]
            labels.append(tag_ids[f"{'I' if started else 'B'}-{label}"])
            started = True
        else:
            labels.append(tag_ids["O"])
    return labels


def features(
    examples: Sequence[NerExample],
    tokenizer: PreTrainedTokenizerFast,
    tags: Sequence[str],
    max_tokens: int = WINDOW_TOKENS,
) -> list[Feature]:
    tag_ids = {tag: i for i, tag in enumerate(tags)}
    known = {tag.split("-", 1)[-1] for tag in tags}
    encoded = tokenizer(
        [e.text for e in examples],
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        truncation=True,
        max_length=max_tokens,
    )
    result = []
    for example, ids, offsets in zip(
        examples, encoded["input_ids"], encoded["offset_mapping"], strict=True
    ):
        spans = [s for s in example.spans if s[2] in known]
        labels = token_labels(core_offsets(example.text, offsets, 0), spans, tag_ids)
        result.append(
            Feature(
                [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id],
                [IGNORE, *labels, IGNORE],
            )
        )
    return result


def length_batches(
    items: Sequence[Feature], batch_tokens: int, rng: random.Random
) -> list[list[int]]:
    """Indices grouped by similar length so that rows × longest ≤ batch_tokens, in random order."""
    order = sorted(range(len(items)), key=lambda i: (len(items[i].input_ids), rng.random()))
    batches, current, longest = [], [], 0
    for i in order:
        longest_if_added = max(longest, len(items[i].input_ids))
        if current and longest_if_added * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest_if_added = [], len(items[i].input_ids)
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def _collate(batch: Sequence[Feature], pad_id: int) -> tuple[torch.Tensor, ...]:
    ids, mask = pad_batch([f.input_ids for f in batch], pad_id)
    labels = torch.full(ids.shape, IGNORE, dtype=torch.long)
    for row, f in enumerate(batch):
        labels[row, : len(f.labels)] = torch.tensor(f.labels)
    return ids, mask, labels


def train_ner(
    config: NerTrainConfig, examples: Sequence[NerExample], out: Path, resume: bool = False
) -> Path:
    """Train the head; checkpoints go to out/checkpoint, the result to out/final."""
    torch.manual_seed(config.seed)
    tokenizer = load_tokenizer()
    tags = bio_tags(config.labels)
    items = features(examples, tokenizer, tags)
    rng = random.Random(config.seed)
    epoch_batches = length_batches(items, config.batch_tokens, rng)
    total = max(1, int(len(epoch_batches) * config.epochs))
    schedule = [epoch_batches[i % len(epoch_batches)] for i in range(total)]

    model = E5Classifier(HeadConfig("token", tags))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup), total)
    step = 0
    checkpoint = out / CHECKPOINT
    if resume and (checkpoint / "state.pt").exists():
        state = torch.load(checkpoint / "state.pt", weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        step = state["step"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")

    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    model.train()
    started, seen_tokens = time.perf_counter(), 0
    progress = tqdm(total=total, initial=step, unit="batch", desc="ner", dynamic_ncols=True)
    while step < total:
        ids, mask, labels = _collate([items[i] for i in schedule[step]], tokenizer.pad_token_id)
        logits = model(ids, mask)
        loss = loss_fn(logits.view(-1, logits.size(-1)), labels.view(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen_tokens += int(mask.sum())
        rate = seen_tokens / (time.perf_counter() - started)
        progress.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{rate:.0f}")
        progress.update()
        if step % config.checkpoint_every == 0 or step == total:
            _save_checkpoint(checkpoint, model, optimizer, scheduler, step)
    progress.close()
    model.config.version = f"{time.strftime('%Y-%m-%d')}-steps{total}-seed{config.seed}"
    model.save(out / FINAL)
    return out / FINAL


def _save_checkpoint(folder: Path, model, optimizer, scheduler, step: int) -> None:
    """Atomically replace the checkpoint: a crash mid-write leaves the previous one."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.trained_state(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "step": step,
    }
    tmp = folder / "state.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(folder / "state.pt")


# ---------------------------------------------------------------- evaluation


def span_scores(
    gold: Sequence[Sequence[tuple[int, int, str]]],
    predicted: Sequence[Sequence[tuple[int, int, str]]],
) -> dict[str, dict[str, float]]:
    """Exact-match entity-span precision, recall and F1 per label and micro-averaged."""
    tp, n_gold, n_pred = Counter(), Counter(), Counter()
    for g, p in zip(gold, predicted, strict=True):
        g_set, p_set = set(g), set(p)
        for span in g_set:
            n_gold[span[2]] += 1
        for span in p_set:
            n_pred[span[2]] += 1
            tp[span[2]] += span in g_set
    result = {}
    for label in [*sorted(n_gold | n_pred), "micro"]:
        t = sum(tp.values()) if label == "micro" else tp[label]
        g = sum(n_gold.values()) if label == "micro" else n_gold[label]
        p = sum(n_pred.values()) if label == "micro" else n_pred[label]
        precision, recall = (t / p if p else 0.0), (t / g if g else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {
            "p": round(precision, 4),
            "r": round(recall, 4),
            "f1": round(f1, 4),
            "n": g,
        }
    return result


def evaluate_ner(
    head_dir: Path, examples: Sequence[NerExample], labels: Sequence[str], batch: int = 256
) -> dict[str, dict[str, float]]:
    """Scores of the full inference path (sentences, windows, word snapping) on examples."""
    recognizer = E5EntityRecognizer(head_dir)
    predicted = []
    for i in tqdm(range(0, len(examples), batch), desc="eval", unit="batch", dynamic_ncols=True):
        texts = [e.text for e in examples[i : i + batch]]
        predicted += [
            [(s.start, s.end, s.label) for s in spans] for spans in recognizer.predict(texts)
        ]
    gold = [[s for s in e.spans if s[2] in labels] for e in examples]
    return span_scores(gold, predicted)
