"""Readers for the labelled NER corpora in ../shared/data, flattened to one sentence-level type.

Every corpus ends up as `NerExample`s with character spans over the six `LABELS`, so training and
evaluation code never sees a corpus-specific format. The data stay outside the project: pass the
folder (``../shared/data`` in CI) as `data_dir`.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.nlp.text import sentences

log = logging.getLogger(__name__)

LABELS = ("PER", "ORG", "LOC", "MISC", "EVT", "PRO")

# ner-uk v2.0 types -> LABELS; None drops the entity (its tokens become O). ART (works, products,
# awards) is the CoNLL sense of MISC. DOC is mostly descriptive (a board's decision, a contract
# and its date), JOB is a role, the rest are dates and quantities: none is a named entity here.
NER_UK_LABELS: dict[str, str | None] = {
    "PERS": "PER",
    "ORG": "ORG",
    "LOC": "LOC",
    "MISC": "MISC",
    "ART": "MISC",
    "DOC": None,
    "JOB": None,
    "DATE": None,
    "TIME": None,
    "PERIOD": None,
    "MON": None,
    "PCT": None,
    "QUANT": None,
}
# factRuEval object types -> LABELS; other types (Project, Facility) are skipped.
FACTRUEVAL_LABELS = {"Person": "PER", "Org": "ORG", "Location": "LOC", "LocOrg": "LOC"}
# factRuEval span types that name (the others describe: org_descr, job, geo_adj, ...). An object
# without one ("the company", "Russian") is a mention but not a named entity, as in ner-uk.
_NAMING = frozenset(
    {"name", "surname", "patronymic", "nickname", "org_name", "loc_name", "prj_name"}
)
_IDENTITY = {label: label for label in LABELS}

SLAVICNER_TEST_TOPIC = "nord_stream"
SLAVICNER_LANGS = ("uk", "ru")
PANX_LANGS = ("uk", "ru", "en")
_CONLL_FILES = {"train": "train", "dev": "val", "test": "test"}

DATASETS: dict[str, tuple[str, ...]] = {
    "ner-uk": ("train", "test"),
    "factrueval": ("dev", "test"),
    "slavicner": ("train", "test"),
    "conll2003": tuple(_CONLL_FILES),
    "panx": tuple(f"{split}-{lang}" for split in ("train", "dev") for lang in PANX_LANGS),
}

Span = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class NerExample:
    """One sentence with its flat entity spans: [start, end) str offsets, sorted, disjoint."""

    text: str
    spans: tuple[Span, ...]
    lang: str
    source: str

    def __post_init__(self) -> None:
        previous_end = 0
        for start, end, label in self.spans:
            if not previous_end <= start < end <= len(self.text) or label not in LABELS:
                raise ValueError(f"bad span {(start, end, label)} in {self.source} example")
            previous_end = end


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
) -> list[NerExample]:
    """Examples from a token file: tokens joined by single spaces, entities mapped by `labels`."""
    examples = []
    for raw_tokens, tags in _tagged_sentences(path):
        tokens = [clean(token) for token in raw_tokens]
        starts, offset = [], 0
        for token in tokens:
            starts.append(offset)
            offset += len(token) + 1
        spans = tuple(
            (starts[first], starts[last - 1] + len(tokens[last - 1]), label)
            for first, last, kind in iob_spans(tags)
            if (label := labels[kind]) is not None
        )
        examples.append(NerExample(" ".join(tokens), spans, lang, source))
    return examples


def _load_ner_uk(split: str, data_dir: Path) -> list[NerExample]:
    path = data_dir / "ner-uk" / "v2.0" / "iob" / f"{split}.iob"
    return _from_tagged(path, NER_UK_LABELS, "uk", "ner-uk")


def _load_conll2003(split: str, data_dir: Path) -> list[NerExample]:
    path = data_dir / "wikineural-repo" / "data" / "conll" / "en" / f"{_CONLL_FILES[split]}.conllu"
    return _from_tagged(path, _IDENTITY, "en", "conll2003")


def _load_panx(split: str, data_dir: Path) -> list[NerExample]:
    lang = split.rpartition("-")[2]
    path = data_dir / "panx-wikiann" / "download" / "panx" / f"{split}.tsv"
    prefix = f"{lang}:"  # the XTREME release writes "uk:Київ"; some copies strip it

    def clean(token: str) -> str:
        return token[len(prefix) :] if token.startswith(prefix) and token != prefix else token

    return _from_tagged(path, _IDENTITY, lang, "panx", clean)


# --- shared by the offset formats ---


def flatten(spans: Sequence[Span]) -> tuple[list[Span], int]:
    """Disjoint spans, sorted, and how many were dropped: the longest wins, then the first listed.

    Keeping the outer span of a nested pair keeps the full name ("Trinidad and Tobago").
    """
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: s[0] - s[1]):
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
        parts = [spans[span_id] for span_id in span_ids]
        if object_type not in FACTRUEVAL_LABELS or all(p.kind not in _NAMING for p in parts):
            continue
        indices = {where[token_id][0] for part in parts for token_id in part.token_ids}
        if len(indices) != 1:
            raise ValueError(f"{base}: an object crosses sentences")
        index = indices.pop()
        tokens = sentences_[index]
        positioned = [(p.kind, [where[t][1] for t in p.token_ids]) for p in parts]
        first, last = _object_extent([token for _, _, token in tokens], positioned)
        offset = tokens[0][0]
        label = FACTRUEVAL_LABELS[object_type]
        found[index].append((tokens[first][0] - offset, tokens[last - 1][1] - offset, label))
    examples, dropped = [], 0
    for tokens, spans_found in zip(sentences_, found, strict=True):
        kept, n_dropped = flatten(spans_found)
        dropped += n_dropped
        sentence = text[tokens[0][0] : tokens[-1][1]]
        examples.append(NerExample(sentence, tuple(kept), "ru", "factrueval"))
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


def _object_extent(words: Sequence[str], parts: list[tuple[str, list[int]]]) -> tuple[int, int]:
    """Token range [first, last) of an object: from its first to its last span.

    A descriptor shared by coordinated names ("the Ohio and Utah states") would make that
    range swallow the other names, so when words not in the object lie inside it, only the naming
    spans count. Then a quote left open or closed inside the range takes its partner along.
    """
    inside = {i for _, positions in parts for i in positions}
    if any(
        i not in inside and any(ch.isalnum() for ch in words[i])
        for i in range(min(inside), max(inside))
    ):
        inside = {i for kind, positions in parts if kind in _NAMING for i in positions}
    return _balance_quotes(words, min(inside), max(inside) + 1)


def _balance_quotes(words: Sequence[str], first: int, last: int) -> tuple[int, int]:
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


# --- SlavicNER: documents with char-offset annotations, split into sentences here ---


def _load_slavicner(split: str, data_dir: Path) -> list[NerExample]:
    root = data_dir / "slavicner"
    topics = sorted(p.name for p in (root / "ner").iterdir() if p.is_dir())
    chosen = [t for t in topics if (t == SLAVICNER_TEST_TOPIC) == (split == "test")]
    examples, losses = [], [0, 0, 0, 0]
    for topic in chosen:
        for lang in SLAVICNER_LANGS:
            for tsv in sorted((root / "ner" / topic / lang).glob("*.tsv")):
                raw = root / "raw" / topic / lang / f"{tsv.stem}.txt"
                doc = _slavicner_document(tsv, raw, lang, f"slavicner/{topic}")
                examples += doc.examples
                losses = [a + b for a, b in zip(losses, doc.losses, strict=True)]
    log.info(
        "slavicner/%s: %d entities cross a sentence boundary: %d sentences with %d entities "
        "dropped; %d nested entities dropped",
        split,
        *losses,
    )
    return examples


@dataclass(frozen=True, slots=True)
class _Document:
    examples: list[NerExample]
    # entities crossing a boundary, sentences dropped, entities in them, nested entities dropped
    losses: tuple[int, int, int, int]


def _slavicner_document(tsv: Path, raw: Path, lang: str, source: str) -> _Document:
    """Sentences of one document with their re-based spans; drops sentences an entity crosses."""
    text = _read_exact(raw)
    annotated = []
    for line in _read_exact(tsv).splitlines():
        if line.strip():
            start, end, surface, _lemma, label, _id = line.split("\t")
            if text[int(start) : int(end)] != surface:
                raise ValueError(f"{tsv}: offsets {start}-{end} do not match {surface!r}")
            annotated.append((int(start), int(end), label))
    entities, nested = flatten(annotated)
    bounds = sentences(text)
    starts = [start for start, _ in bounds]
    inner: list[list[Span]] = [[] for _ in bounds]
    crossed: set[int] = set()
    n_crossing = 0
    for start, end, label in entities:
        first = max(bisect_right(starts, start) - 1, 0)
        last = max(bisect_right(starts, end - 1) - 1, 0)
        sentence_start, sentence_end = bounds[first]
        if first == last and sentence_start <= start and end <= sentence_end:
            inner[first].append((start - sentence_start, end - sentence_start, label))
        else:
            crossed.update(range(first, last + 1))
            n_crossing += 1
    examples = [
        NerExample(text[start:end], tuple(spans), lang, source)
        for i, ((start, end), spans) in enumerate(zip(bounds, inner, strict=True))
        if i not in crossed
    ]
    lost = n_crossing + sum(len(inner[i]) for i in crossed)
    return _Document(examples, (n_crossing, len(crossed), lost, nested))


_READERS: dict[str, Callable[[str, Path], list[NerExample]]] = {
    "ner-uk": _load_ner_uk,
    "factrueval": _load_factrueval,
    "slavicner": _load_slavicner,
    "conll2003": _load_conll2003,
    "panx": _load_panx,
}
