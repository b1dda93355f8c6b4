"""Readers for the labelled NER corpora in ../shared/data, mapped onto the BSNLP guidelines.

Every corpus ends up as `NerExample`s with character spans over the five `LABELS` (PER, ORG, LOC,
EVT, PRO: the entity schema's), so training and evaluation code never sees a corpus-specific
format. Where a corpus's convention disagrees with the guidelines the example says so instead of
teaching the disagreement: an entity typed otherwise (CoNLL's MISC: nationalities are PER, events
EVT, products PRO) is `masked`, and a type the corpus never annotates is `unannotated` (its tokens
may be that type). The data stay outside the project: pass the folder (``../shared/data`` in CI)
as `data_dir`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.contracts import entity_labels

log = logging.getLogger(__name__)

LABELS = entity_labels()
MASKED = "?"  # a corpus type that maps onto no single label: its tokens are left out of the loss

# ner-uk v2.0 types -> LABELS; None drops the entity (its tokens become O). ART is works and
# media titles (Вісник державних закупівель, Біблія): PRO. MISC mixes events (Різдво, Друга
# світова війна), nationalities and common nouns, DOC laws and decrees: masked. JOB is a role,
# the rest are dates and quantities: not named entities.
NER_UK_LABELS: dict[str, str | None] = {
    "PERS": "PER",
    "ORG": "ORG",
    "LOC": "LOC",
    "MISC": MASKED,
    "ART": "PRO",
    "DOC": MASKED,
    "JOB": None,
    "DATE": None,
    "TIME": None,
    "PERIOD": None,
    "MON": None,
    "PCT": None,
    "QUANT": None,
}
# factRuEval object types -> LABELS; other types (Project, Facility) are masked. It annotates
# neither events nor products.
FACTRUEVAL_LABELS = {"Person": "PER", "Org": "ORG", "Location": "LOC", "LocOrg": "LOC"}
FACTRUEVAL_UNANNOTATED = ("EVT", "PRO")
# factRuEval span types that name (the others describe: org_descr, job, geo_adj, ...). An object
# without one ("the company", "Russian") is a mention but not a named entity, as in ner-uk.
_NAMING = frozenset(
    {"name", "surname", "patronymic", "nickname", "org_name", "loc_name", "prj_name"}
)
# The spans that name an object of each mapped type: an entity is read by these alone, without
# its descriptors (компании «Роснефть» → «Роснефть»), as the BSNLP guidelines mark names.
_OWN_NAMES = {
    "Person": frozenset({"name", "surname", "patronymic", "nickname"}),
    "Org": frozenset({"org_name"}),
    "Location": frozenset({"loc_name"}),
    "LocOrg": frozenset({"loc_name"}),
}
# CoNLL-2003 and PAN-X: MISC (CoNLL) is nationalities, events and works together.
_CONLL_LABELS = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": MASKED}
PANX_UNANNOTATED = ("EVT", "PRO")

# SlavicNER's topics, the withheld ones included: each is read where its folder exists.
SLAVICNER_TOPICS = (
    "asia_bibi",
    "brexit",
    "covid-19",
    "nord_stream",
    "ryanair",
    "us_election_2020",
    "russia_-_ukraine_war",
)
SLAVICNER_LANGS = ("uk", "ru")
# The topic the shipped heads and alias table never saw; the others build them.
HELD_OUT_TOPIC = "nord_stream"
TRAINING_TOPICS = ("asia_bibi", "brexit", "covid-19", "ryanair")
PANX_LANGS = ("uk", "ru", "en")
_CONLL_FILES = {"train": "train", "dev": "val", "test": "test"}

DATASETS: dict[str, tuple[str, ...]] = {
    "ner-uk": ("train", "test"),
    "factrueval": ("dev", "test"),
    "slavicner": SLAVICNER_TOPICS,
    "slavicner-cross": ("train", "test"),
    "conll2003": tuple(_CONLL_FILES),
    "panx": tuple(f"{split}-{lang}" for split in ("train", "dev") for lang in PANX_LANGS),
}

Span = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class NerExample:
    """A sentence (or a whole document) with its flat entity spans: [start, end) str offsets,
    sorted, disjoint. `masked`: spans the corpus types otherwise than the guidelines (no loss on
    their tokens); `unannotated`: labels the corpus never annotates (its O may be one of them)."""

    text: str
    spans: tuple[Span, ...]
    lang: str
    source: str
    masked: tuple[tuple[int, int], ...] = ()
    unannotated: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        previous_end = 0
        for start, end, label in self.spans:
            if not previous_end <= start < end <= len(self.text) or label not in LABELS:
                raise ValueError(f"bad span {(start, end, label)} in {self.source} example")
            previous_end = end
        if not set(self.unannotated) <= set(LABELS):
            raise ValueError(f"unknown labels {self.unannotated} in {self.source} example")

    def is_masked(self, start: int, end: int) -> bool:
        """Whether characters [start, end) touch a masked span."""
        return any(s < end and start < e for s, e in self.masked)


def load(name: str, split: str, data_dir: Path) -> list[NerExample]:
    """All examples of one split of one corpus, in file order."""
    if split not in DATASETS.get(name, ()):
        raise ValueError(f"unknown dataset/split {name}/{split}; known: {DATASETS}")
    return _READERS[name](split, Path(data_dir))


# --- token formats: one token and one IOB tag a line, blank lines between sentences ---


def iob_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Token spans [first, last + 1) with their types from B-/I-/O tags.

    An I- tag that does not continue an entity of the same type starts a new one: that reads IOB1
    files and the mixed IOB1/IOB2 of CoNLL-2003 conversions correctly.
    """
    spans: list[tuple[int, int, str]] = []
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "I" and spans and spans[-1][1] == i and spans[-1][2] == kind:
            spans[-1] = (spans[-1][0], i + 1, kind)
        elif prefix in ("B", "I"):
            spans.append((i, i + 1, kind))
        elif tag != "O":
            raise ValueError(f"not an IOB tag: {tag!r}")
    return spans


def _tagged_sentences(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """(tokens, tags) per sentence; the token is the next-to-last column, the tag the last."""
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        columns = line.split()
        if columns:
            tokens.append(columns[-2])
            tags.append(columns[-1])
        elif tokens:
            if tokens[0] != "-DOCSTART-":
                yield tokens, tags
            tokens, tags = [], []


def _from_tagged(
    path: Path,
    labels: dict[str, str | None],
    lang: str,
    source: str,
    clean: Callable[[str], str] = str,
    unannotated: tuple[str, ...] = (),
) -> list[NerExample]:
    """Examples from a token file: tokens joined by single spaces, entities mapped by `labels`."""
    examples = []
    for raw_tokens, tags in _tagged_sentences(path):
        tokens = [clean(token) for token in raw_tokens]
        starts, offset = [], 0
        for token in tokens:
            starts.append(offset)
            offset += len(token) + 1
        found = [
            (starts[first], starts[last - 1] + len(tokens[last - 1]), label)
            for first, last, kind in iob_spans(tags)
            if (label := labels[kind]) is not None
        ]
        examples.append(_example(" ".join(tokens), found, lang, source, unannotated))
    return examples


def _example(
    text: str, found: Sequence[Span], lang: str, source: str, unannotated: tuple[str, ...] = ()
) -> NerExample:
    """An example whose MASKED spans go to `masked`; the others must be disjoint already."""
    spans = tuple(s for s in found if s[2] != MASKED)
    masked = tuple((s[0], s[1]) for s in found if s[2] == MASKED)
    return NerExample(text, spans, lang, source, masked, unannotated)


def _load_ner_uk(split: str, data_dir: Path) -> list[NerExample]:
    path = data_dir / "ner-uk" / "v2.0" / "iob" / f"{split}.iob"
    return _from_tagged(path, NER_UK_LABELS, "uk", "ner-uk")


def _load_conll2003(split: str, data_dir: Path) -> list[NerExample]:
    path = data_dir / "wikineural-repo" / "data" / "conll" / "en" / f"{_CONLL_FILES[split]}.conllu"
    return _from_tagged(path, _CONLL_LABELS, "en", "conll2003")


def _load_panx(split: str, data_dir: Path) -> list[NerExample]:
    lang = split.rpartition("-")[2]
    path = data_dir / "panx-wikiann" / "download" / "panx" / f"{split}.tsv"
    prefix = f"{lang}:"  # the XTREME release writes "uk:Київ"; some copies strip it

    def clean(token: str) -> str:
        return token[len(prefix) :] if token.startswith(prefix) and token != prefix else token

    return _from_tagged(path, _CONLL_LABELS, lang, "panx", clean, PANX_UNANNOTATED)


# --- shared by the offset formats ---


def flatten(spans: Sequence[Span]) -> tuple[list[Span], int]:
    """Disjoint spans, sorted, and how many were dropped: the longest wins, then a labelled one
    over a masked one, then the first listed.

    Keeping the outer span of a nested pair keeps the full name ("Trinidad and Tobago").
    """
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[2] == MASKED)):
        if all(span[1] <= other[0] or other[1] <= span[0] for other in kept):
            kept.append(span)
    return sorted(kept), len(spans) - len(kept)


def _read_exact(path: Path) -> str:
    """File text with no newline translation, so that character offsets stay exact."""
    return path.read_bytes().decode("utf-8")


# --- factRuEval-2016: .tokens (sentences), .spans (token runs), .objects (groups of spans) ---

Token = tuple[int, int, str]  # start, end in the document, text


@dataclass(frozen=True, slots=True)
class _FactSpan:
    kind: str
    token_ids: tuple[str, ...]


def _load_factrueval(split: str, data_dir: Path) -> list[NerExample]:
    folder = data_dir / "factRuEval-2016" / f"{split}set"
    examples, dropped = [], 0
    for tokens_path in sorted(folder.glob("*.tokens")):
        doc_examples, doc_dropped = _factrueval_document(tokens_path.with_suffix(""))
        examples += doc_examples
        dropped += doc_dropped
    log.info("factrueval/%s: %d nested or crossing objects dropped", split, dropped)
    return examples


def _factrueval_document(base: Path) -> tuple[list[NerExample], int]:
    text = _read_exact(base.with_suffix(".txt"))
    sentences_, where = _factrueval_tokens(base.with_suffix(".tokens"))
    spans = _factrueval_spans(base.with_suffix(".spans"))
    found: list[list[Span]] = [[] for _ in sentences_]
    for object_type, span_ids in _factrueval_objects(base.with_suffix(".objects")):
        parts = [spans[i] for i in span_ids]
        label = FACTRUEVAL_LABELS.get(object_type, MASKED)
        naming = [p for p in parts if p.kind in _OWN_NAMES.get(object_type, ())]
        if not naming:  # named by something else (Мэрия Твери): masked, or not named at all
            naming, label = [p for p in parts if p.kind in _NAMING], MASKED
        if not naming:
            continue
        indices = {where[token_id][0] for part in naming for token_id in part.token_ids}
        if len(indices) != 1:
            raise ValueError(f"{base}: an object crosses sentences")
        index = indices.pop()
        tokens = sentences_[index]
        positions = [where[t][1] for part in naming for t in part.token_ids]
        first, last = _balance_quotes(
            [token for _, _, token in tokens], min(positions), max(positions) + 1
        )
        offset = tokens[0][0]
        found[index].append((tokens[first][0] - offset, tokens[last - 1][1] - offset, label))
    examples, dropped = [], 0
    for tokens, spans_found in zip(sentences_, found, strict=True):
        kept, n_dropped = flatten(spans_found)
        dropped += n_dropped
        sentence = text[tokens[0][0] : tokens[-1][1]]
        examples.append(_example(sentence, kept, "ru", "factrueval", FACTRUEVAL_UNANNOTATED))
    return examples, dropped


def _factrueval_tokens(path: Path) -> tuple[list[list[Token]], dict[str, tuple[int, int]]]:
    """Sentences of (start, end, text) tokens, and token id -> (sentence, position)."""
    sentences_: list[list[Token]] = [[]]
    where: dict[str, tuple[int, int]] = {}
    for line in _read_exact(path).splitlines():
        if not line.strip():
            if sentences_[-1]:
                sentences_.append([])
            continue
        token_id, start, length, token = line.split(" ")
        where[token_id] = (len(sentences_) - 1, len(sentences_[-1]))
        sentences_[-1].append((int(start), int(start) + int(length), token))
    return [s for s in sentences_ if s], where


def _factrueval_spans(path: Path) -> dict[str, _FactSpan]:
    """Span id -> type and token ids (listed after '#', before the token texts)."""
    spans = {}
    for line in _read_exact(path).splitlines():
        fields, _, reference = line.partition("#")
        if fields.strip():
            span_id, kind, _start, _length, _first, n_tokens = fields.split()
            spans[span_id] = _FactSpan(kind, tuple(reference.split()[: int(n_tokens)]))
    return spans


def _factrueval_objects(path: Path) -> Iterator[tuple[str, list[str]]]:
    for line in _read_exact(path).splitlines():
        fields = line.partition("#")[0].split()
        if fields:
            yield fields[1], fields[2:]


_OPENING_QUOTES = frozenset("«„")
_CLOSING_QUOTES = frozenset("»“")


def _balance_quotes(words: Sequence[str], first: int, last: int) -> tuple[int, int]:
    """Token range [first, last) widened by a quote opened or closed inside it."""
    inner = words[first:last]
    opened = sum(w in _OPENING_QUOTES for w in inner) - sum(w in _CLOSING_QUOTES for w in inner)
    straight_odd = inner.count('"') % 2 == 1
    after = words[last] if last < len(words) else ""
    before = words[first - 1] if first > 0 else ""
    if (opened > 0 and after in _CLOSING_QUOTES) or (straight_odd and after == '"'):
        return first, last + 1
    if (opened < 0 and before in _OPENING_QUOTES) or (straight_odd and before == '"'):
        return first - 1, last
    return first, last


# --- SlavicNER: documents with char-offset annotations, read whole ---


@dataclass(frozen=True, slots=True)
class GoldMention:
    """One SlavicNER annotation: offsets, surface, lemma, type and cross-lingual entity id."""

    start: int
    end: int
    surface: str
    lemma: str
    label: str
    entity: str


@dataclass(frozen=True, slots=True)
class GoldDocument:
    text: str
    lang: str
    mentions: tuple[GoldMention, ...]


def slavicner_documents(topic: str, data_dir: Path) -> list[GoldDocument]:
    """Every annotated document of one topic, uk and ru, with all its annotations."""
    root = data_dir / "slavicner"
    documents = [
        _slavicner_document(root, topic, lang, tsv.stem)
        for lang in SLAVICNER_LANGS
        for tsv in sorted((root / "ner" / topic / lang).glob("*.tsv"))
    ]
    if not documents:
        raise FileNotFoundError(f"no SlavicNER documents of topic {topic!r} under {root}")
    return documents


def _slavicner_document(root: Path, topic: str, lang: str, name: str) -> GoldDocument:
    """One document and all its annotations, each checked against the text it claims."""
    text = _read_exact(root / "raw" / topic / lang / f"{name}.txt")
    tsv = root / "ner" / topic / lang / f"{name}.tsv"
    mentions = []
    for line in _read_exact(tsv).splitlines():
        if line.strip():
            start, end, surface, lemma, label, entity = line.split("\t")
            if text[int(start) : int(end)] != surface:
                raise ValueError(f"{tsv}: offsets {start}-{end} do not match {surface!r}")
            mentions.append(GoldMention(int(start), int(end), surface, lemma, label, entity))
    return GoldDocument(text, lang, tuple(mentions))


def _load_slavicner(topic: str, data_dir: Path) -> list[NerExample]:
    """Every document of one topic, uk and ru."""
    documents = [(topic, doc) for doc in slavicner_documents(topic, data_dir)]
    return _outermost(documents, f"slavicner/{topic}")


def _load_slavicner_cross(split: str, data_dir: Path) -> list[NerExample]:
    """The SlavicNER paper's "cross topics" split (`SPLIT_cross-topic_{train,test}.txt`: documents
    of every topic on both sides), its uk and ru documents here; those of withheld topics are
    absent and skipped. It makes our figures comparable with the paper's cross-topic baseline."""
    root = data_dir / "slavicner"
    documents = []
    for line in _read_exact(root / f"SPLIT_cross-topic_{split}.txt").split():
        _, topic, lang, file = line.split("/")
        name = file.removesuffix(".txt")
        if lang in SLAVICNER_LANGS and (root / "ner" / topic / lang / f"{name}.tsv").exists():
            documents.append((topic, _slavicner_document(root, topic, lang, name)))
    return _outermost(documents, f"slavicner cross-topic {split}")


def _outermost(documents: Sequence[tuple[str, GoldDocument]], what: str) -> list[NerExample]:
    """(topic, document) pairs as examples with their outermost entities: the model reads
    whole documents as serving does."""
    examples, nested = [], 0
    for topic, doc in documents:
        entities, n_nested = flatten([(m.start, m.end, m.label) for m in doc.mentions])
        examples.append(NerExample(doc.text, tuple(entities), doc.lang, f"slavicner/{topic}"))
        nested += n_nested
    log.info("%s: %d documents, %d nested entities dropped", what, len(examples), nested)
    return examples


_READERS: dict[str, Callable[[str, Path], list[NerExample]]] = {
    "ner-uk": _load_ner_uk,
    "factrueval": _load_factrueval,
    "slavicner": _load_slavicner,
    "slavicner-cross": _load_slavicner_cross,
    "conll2003": _load_conll2003,
    "panx": _load_panx,
}
