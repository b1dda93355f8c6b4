"""One training loop for every e5 head, on the CPU or a GPU: length-bucketed batches, AdamW with
warm-up, progress, resumable checkpoints. Token heads label each token; span heads label each
target, read from the token positions it pools."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn
from tqdm import tqdm
from transformers import get_linear_schedule_with_warmup

from pipeline.build.head_config import HeadConfig
from pipeline.nlp.e5.runner import pad_batch
from pipeline.train.model import E5Classifier, Pools

T = TypeVar("T")
IGNORE = -100  # no loss: <s>, </s>, padding, and tokens of entities a corpus types otherwise
CHECKPOINT = "checkpoint"
FINAL = "final"


@dataclass
class TrainConfig:
    """Optimisation settings; saved beside the checkpoints of a run."""

    epochs: float = 1.0
    batch_tokens: int = 2048
    lr: float = 5e-4
    warmup: float = 0.06
    seed: int = 13
    checkpoint_every: int = 50
    init: str = ""  # a trained head to continue from, with a new schedule
    first_layer: int = 4  # lowest encoder layer given adapters; with init, at most init's
    balance: bool = False  # loss weights 1/sqrt(label frequency), relative to the commonest
    device: str = "cpu"  # torch device of the run ("cuda" on a GPU); heads are saved on the CPU


@dataclass(frozen=True, slots=True)
class Feature:
    """Model input with its labels: one per token (token heads), or one per pool (span heads:
    the token positions each target is read from).

    open_tags: labels a token labelled 0 (O) may also have, because its corpus does not annotate
    them (an unannotated type is unknown there, not absent): the loss counts any of them as right.
    soft: span heads, per pool, the distribution the loss aims at: its label one-hot, or a
    teacher head's judgement where the text is unlabelled (labels then hold its argmax).
    """

    input_ids: list[int]
    labels: list[int]
    open_tags: tuple[int, ...] = ()
    pools: tuple[tuple[int, ...], ...] = ()
    soft: tuple[tuple[float, ...], ...] = ()


def read_sources(
    sources: Iterable[str], load: Callable[[str, str, Path], list[T]], data_dir: Path, seed: int
) -> list[T]:
    """`name:split[:cap]` items → examples from `load`; a cap N keeps a seeded random sample of
    N, a cap xN repeats the split N times (a corpus that should weigh more)."""
    examples: list[T] = []
    for source in sources:
        name, split, *cap = source.split(":")
        items = load(name, split, data_dir)
        if cap and cap[0].startswith("x"):
            items = items * int(cap[0][1:])
        elif cap and len(items) > int(cap[0]):
            items = random.Random(seed).sample(items, int(cap[0]))
        examples += items
    return examples


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


def collate(
    batch: Sequence[Feature], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Pools | None]:
    """Padded ids, attention mask, labels (span heads: a distribution per target), and for
    span heads the targets' pools."""
    ids, mask = (torch.from_numpy(a) for a in pad_batch([f.input_ids for f in batch], pad_id))
    if batch[0].pools:
        targets = [(row, pool) for row, f in enumerate(batch) for pool in f.pools]
        weights = torch.zeros(len(targets), ids.shape[1])
        for k, (_, pool) in enumerate(targets):
            weights[k, list(pool)] = 1.0 / len(pool)
        rows = torch.tensor([row for row, _ in targets], dtype=torch.long)
        aims = torch.tensor([d for f in batch for d in f.soft], dtype=torch.float32)
        return ids, mask, aims, (rows, weights)
    labels = torch.full(ids.shape, IGNORE, dtype=torch.long)
    for row, f in enumerate(batch):
        labels[row, : len(f.labels)] = torch.tensor(f.labels)
    return ids, mask, labels, None


def open_mask(batch: Sequence[Feature], n_labels: int) -> torch.Tensor:
    """(rows, labels) bool: the open tags of each row's feature."""
    mask = torch.zeros(len(batch), n_labels, dtype=torch.bool)
    for row, f in enumerate(batch):
        mask[row, list(f.open_tags)] = True
    return mask


def partial_nll(
    logits: torch.Tensor,
    labels: torch.Tensor,
    open_tags: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy where an O token (label 0) of a row with open tags is right as any of them:
    −log of the probability of the allowed set. Without open tags it is plain cross-entropy.

    logits (rows, tokens, labels); labels (rows, tokens) with IGNORE; open_tags (rows, labels).
    """
    valid = labels != IGNORE
    target = labels.clamp(min=0)
    allowed = nn.functional.one_hot(target, logits.size(-1)).bool()
    allowed |= (target == 0)[..., None] & open_tags[:, None, :]
    loss = logits.logsumexp(-1) - logits.masked_fill(~allowed, float("-inf")).logsumexp(-1)
    weight = valid.float() if weights is None else weights[target] * valid
    return (loss * weight).sum() / weight.sum().clamp(min=1e-9)


def soft_nll(
    logits: torch.Tensor, aims: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy against a distribution per row (a one-hot row: plain cross-entropy), each
    row weighted by its aim's expected label weight.

    logits and aims (rows, labels); weights (labels,).
    """
    loss = -(aims * logits.log_softmax(-1)).sum(-1)
    weight = torch.ones_like(loss) if weights is None else aims @ weights
    return (loss * weight).sum() / weight.sum().clamp(min=1e-9)


def label_weights(items: Sequence[Feature], n_labels: int) -> torch.Tensor:
    """Rare labels weigh more, by the square root of how much rarer than the commonest: a
    head trained on mostly-neutral data then still learns to say favor and against, without
    full inverse-frequency weights that would make it say them everywhere."""
    counts = torch.zeros(n_labels)
    for item in items:
        labels = torch.tensor(item.labels)
        counts += torch.bincount(labels[labels != IGNORE], minlength=n_labels)
    return (counts.max() / counts.clamp(min=1)).sqrt()


def train_head(
    head: HeadConfig,
    items: Sequence[Feature],
    config: TrainConfig,
    out: Path,
    *,
    pad_id: int,
    resume: bool = False,
    run_info: dict | None = None,
) -> Path:
    """Train a head on features; checkpoints go to out/checkpoint, the head at the end of each
    whole epoch to out/epoch-N and the result to out/final."""
    torch.manual_seed(config.seed)
    device = training_device(config.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 weights, TF32 matmuls: Ampere and later
    epoch_batches = length_batches(items, config.batch_tokens, random.Random(config.seed))
    total = max(1, int(len(epoch_batches) * config.epochs))
    schedule = [epoch_batches[i % len(epoch_batches)] for i in range(total)]

    model = E5Classifier(head)
    if config.init:
        model.load_trained(Path(config.init), extends=True)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup), total)
    step = 0
    checkpoint = out / CHECKPOINT / "state.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False, map_location=device)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        if state.get("cuda_rng") is not None and device.type == "cuda":
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        step = state["step"]
    out.mkdir(parents=True, exist_ok=True)
    info = {**asdict(config), **(run_info or {}), "batches": total}
    (out / "train_config.json").write_text(json.dumps(info, indent=2) + "\n")

    weights = label_weights(items, len(head.labels)).to(device) if config.balance else None
    lower = frozen_states(model, items, pad_id, config.batch_tokens)
    model.train()
    started, seen_tokens = time.perf_counter(), 0
    progress = tqdm(total=total, initial=step, unit="batch", desc=head.task, dynamic_ncols=True)
    while step < total:
        batch = schedule[step]
        ids, mask, labels, pools = collate([items[i] for i in batch], pad_id)
        ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
        pools = pools and (pools[0].to(device), pools[1].to(device))
        hidden = pad_states([lower[i] for i in batch], ids.shape[1])
        logits = model.upper(hidden, mask, pools)
        if pools:
            loss = soft_nll(logits, labels, weights)
        else:
            opened = open_mask([items[i] for i in batch], len(head.labels)).to(device)
            loss = partial_nll(logits, labels, opened, weights)
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
        if step % len(epoch_batches) == 0 and step < total:
            _save_head(model, out / f"epoch-{step // len(epoch_batches)}", step, config.seed)
    progress.close()
    return _save_head(model, out / FINAL, total, config.seed)


class UnusableDevice(ValueError):
    """`--device` names no torch device, or one this machine does not have."""


def training_device(name: str) -> torch.device:
    """The torch device called `name`, checked before any data is read: a run asked to train on
    a GPU that is not there stops at once with the reason, rather than on the CPU for hours."""
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UnusableDevice(f"--device {name}: not a torch device ({exc})") from None
    try:
        torch.empty(0, device=device)
    except (AssertionError, RuntimeError) as exc:  # torch's words when the device is missing
        reason = str(exc).splitlines()[0]
        raise UnusableDevice(f"--device {name}: not usable on this machine ({reason})") from None
    return device


def frozen_states(
    model: E5Classifier, items: Sequence[Feature], pad_id: int, batch_tokens: int
) -> list[torch.Tensor]:
    """Each item's hidden states below the first adapted layer, computed once for the run (and
    once for repeated inputs): those layers never change, so an epoch costs only the layers
    that train. They stay on the model's device."""
    device = next(model.parameters()).device
    unique = list({tuple(item.input_ids): item for item in items}.values())
    computed: dict[tuple[int, ...], torch.Tensor] = {}
    model.eval()
    with torch.inference_mode():
        batches = length_batches(unique, 4 * batch_tokens, random.Random(0))
        for batch in tqdm(batches, desc="frozen layers", unit="batch", dynamic_ncols=True):
            ids, mask, _, _ = collate([unique[i] for i in batch], pad_id)
            hidden = model.lower(ids.to(device), mask.to(device))
            for row, i in enumerate(batch):
                ids_i = unique[i].input_ids
                computed[tuple(ids_i)] = hidden[row, : len(ids_i)].clone()
    return [computed[tuple(item.input_ids)] for item in items]


def pad_states(states: Sequence[torch.Tensor], length: int) -> torch.Tensor:
    """(rows, length, hidden) with zeros after each row's tokens (masked out anyway)."""
    padded = states[0].new_zeros(len(states), length, states[0].shape[-1])
    for row, state in enumerate(states):
        padded[row, : len(state)] = state
    return padded


def _save_head(model: E5Classifier, folder: Path, batches: int, seed: int) -> Path:
    model.config.version = f"{time.strftime('%Y-%m-%d')}-batches{batches}-seed{seed}"
    model.save(folder)
    return folder


def _save_checkpoint(
    path: Path,
    model: E5Classifier,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    step: int,
) -> None:
    """Atomically replace the checkpoint: a crash mid-write leaves the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.trained_state(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        "step": step,
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
