"""Shared fixtures: the local Kafka broker; a tiny randomly initialised Hugging Face NER model
and NLI model.

The tiny models exercise the real `hf` backend (loading by path, windows, offsets, batching) in
seconds. Tests assert structure, offsets and schema only — never what a random model finds.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    PreTrainedTokenizerFast,
)

from pipeline.kafka.broker import LocalBroker
from pipeline.settings import PROJECT_ROOT, SEED_DIR, Settings

SEED = SEED_DIR / "000_25d5417d1e5c359d.txt"
# The labelled corpora, never in the repository: ../shared/data beside the checkout, or
# PIPELINE_TRAIN_DATA. Tests over them are skipped where they are absent.
SHARED_DATA = Path(os.environ.get("PIPELINE_TRAIN_DATA") or PROJECT_ROOT.parent / "shared" / "data")
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
NLI_LABELS = ["entailment", "neutral", "contradiction"]
CORPUS = [
    SEED.read_text(encoding="utf-8"),
    "President Tokayev said Kazakhstan supports direct talks between Ukraine and Russia.",
    "Президент Казахстана заявил, что поддерживает прямые переговоры Украины и России.",
    "This text is in favor of against neutral about.",
]


def _tokenizer(folder: Path) -> PreTrainedTokenizerFast:
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        CORPUS, trainers.WordPieceTrainer(vocab_size=600, special_tokens=special)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    fast.save_pretrained(folder)
    return fast


def _config(vocab_size: int, labels: list[str]) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,  # short windows, so long texts exercise striding
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders of a random token-classification model and a random NLI model."""
    root = tmp_path_factory.mktemp("tiny-models")
    torch.manual_seed(0)
    folders = {}
    for name, model_class, labels in (
        ("ner", BertForTokenClassification, NER_LABELS),
        ("nli", BertForSequenceClassification, NLI_LABELS),
    ):
        folder = root / name
        tokenizer = _tokenizer(folder)
        model_class(_config(len(tokenizer), labels)).save_pretrained(folder)
        folders[name] = folder
    return folders


@pytest.fixture(scope="session")
def e5_ner_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A NER head trained for a few steps on made-up sentences (real e5 base, real loop)."""
    from pipeline.train.ner import NerTrainConfig, train_ner
    from tests.synthetic import NER_EXAMPLES

    config = NerTrainConfig(epochs=3, batch_tokens=256, checkpoint_every=2, lr=1e-3)
    return train_ner(config, NER_EXAMPLES * 2, tmp_path_factory.mktemp("ner"))


@pytest.fixture(scope="session")
def e5_stance_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stance head trained for a few steps on made-up pairs."""
    from pipeline.train.stance import StanceTrainConfig, train_stance
    from tests.synthetic import STANCE_EXAMPLES

    config = StanceTrainConfig(epochs=2, batch_tokens=128, checkpoint_every=2)
    return train_stance(config, STANCE_EXAMPLES * 2, tmp_path_factory.mktemp("stance"))


@pytest.fixture(scope="session")
def kafka() -> Settings:
    """Default settings, with the local broker started (a no-op when it already runs)."""
    settings = Settings()
    LocalBroker(settings).start()
    return settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent")
    return SHARED_DATA
