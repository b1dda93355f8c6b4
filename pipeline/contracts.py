"""Data contracts: the schemas in schemas/, article parsing and validation, output records.

No Kafka and no tensors here: the agent, `pipeline produce` and `pipeline tag` all share it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from pipeline.settings import PACKAGE_DIR

SCHEMA_DIR = PACKAGE_DIR / "schemas"
INPUT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".txt")
_SEED_HEADER = re.compile(r"^\ufeff?\s*date (\d{4}-\d{2}-\d{2})\s+(.*\S)\s*$")
_REASON_MAX = 300


class InvalidArticle(ValueError):
    """An input that cannot be enriched; `stage` is `decode` or `validate`, `kind` a short
    fixed name of what is wrong (a metrics label) and `reason` the full sentence."""

    def __init__(self, stage: str, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.kind = kind
        self.reason = reason


@cache
def load_schema(name: str) -> dict[str, Any]:
    """schemas/<name>.schema.json, the single source of truth for each topic's records."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Draft202012Validator:
    """Validator for one schema, with $refs between schemas and formats (date, uri…) checked."""
    schemas = [load_schema(p.name.removesuffix(".schema.json")) for p in SCHEMA_DIR.glob("*.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    return Draft202012Validator(
        load_schema(name), registry=registry, format_checker=FormatChecker()
    )


@cache
def entity_labels() -> tuple[str, ...]:
    """The entity types every tagger publishes (the BSNLP guidelines'), as the schema names them."""
    return tuple(load_schema("entity")["$defs"]["label"]["enum"])


@cache
def stance_labels() -> tuple[str, ...]:
    """The stance classes (favor, against, neutral), as the schema names them."""
    return tuple(load_schema("entity")["$defs"]["stance"]["enum"])


SCHEMA_VERSION: int = load_schema("enriched")["properties"]["schema_version"]["const"]


def schema_errors(name: str, record: Any) -> list[str]:
    """Short messages for every violation of schema `name`."""
    return [_describe(e) for e in validator(name).iter_errors(record)]


def _describe(error: Any) -> str:
    """Where and which rule failed; the offending value is never echoed (it may be huge)."""
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    if error.validator == "required":
        return _short(f"{where}: {error.message}")
    rule = error.validator_value if error.validator not in ("oneOf", "anyOf", "allOf") else "…"
    return _short(f"{where}: does not match {error.validator} {rule!r}")


def _short(text: str) -> str:
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


def check_article(record: Any, max_body_bytes: int) -> dict[str, Any]:
    """Validate a decoded article; raise InvalidArticle with the most relevant reason."""
    try:
        error = best_match(validator("article").iter_errors(record))
    except RecursionError:  # jsonschema recurses (and repr()s) into nested values
        raise InvalidArticle(
            "validate", "schema", "schema: nested too deeply to validate"
        ) from None
    if error is not None:
        raise InvalidArticle("validate", "schema", "schema: " + _describe(error))
    body_bytes = len(record["body"].encode("utf-8", "surrogatepass"))
    if body_bytes > max_body_bytes:
        raise InvalidArticle(
            "validate",
            "too_large",
            f"body is {body_bytes} bytes, over the limit of {max_body_bytes}",
        )
    for i, target in enumerate(record.get("targets", ())):
        if isinstance(target, dict) and not target["start"] < target["end"] <= len(record["body"]):
            raise InvalidArticle(
                "validate",
                "target_span",
                f"targets/{i}: span {target['start']}:{target['end']} is not inside body "
                f"(length {len(record['body'])})",
            )
    return record


def decode_article(raw: bytes | None, max_body_bytes: int) -> dict[str, Any]:
    """Bytes from Kafka → a valid article dict, or InvalidArticle naming what is wrong."""
    if not raw:
        raise InvalidArticle("decode", "empty", "empty message value")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArticle(
            "decode", "utf8", f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
        ) from None
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidArticle("decode", "json", _short(f"invalid JSON: {exc}")) from None
    return check_article(record, max_body_bytes)


# ---------------------------------------------------------------- input files


@dataclass(frozen=True)
class InputRecord:
    """One article read from a file: either `article` (not yet validated) or `error`."""

    origin: str
    article: dict[str, Any] | None = None
    error: str | None = None


def article_from_text(text: str, article_id: str) -> dict[str, Any]:
    """The seed format: `date YYYY-MM-DD <title>`, blank line, body; other text = a body."""
    first, _, rest = text.partition("\n")
    header = _SEED_HEADER.match(first)
    if header is None:
        return {"id": article_id, "body": text.strip()}
    return {
        "id": article_id,
        "title": header.group(2),
        "published_at": header.group(1),
        "body": rest.strip(),
    }


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders become their input files, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in INPUT_SUFFIXES))
        else:
            files.append(path)
    return files


def read_lines(lines: Iterable[str], origin: str) -> Iterator[InputRecord]:
    """JSON Lines: one article per non-blank line."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            yield InputRecord(where, article=orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            yield InputRecord(where, error=f"invalid JSON: {exc}")


def read_file(path: Path) -> Iterator[InputRecord]:
    """Articles in a .json (object or list), .jsonl/.ndjson or .txt file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield InputRecord(str(path), error=f"cannot read: {exc}")
        return
    if path.suffix in (".jsonl", ".ndjson"):
        yield from read_lines(text.splitlines(), str(path))
    elif path.suffix == ".json":
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield InputRecord(str(path), error=f"invalid JSON: {exc}")
            return
        items = parsed if isinstance(parsed, list) else [parsed]
        for i, item in enumerate(items):
            yield InputRecord(f"{path}[{i}]" if isinstance(parsed, list) else str(path), item)
    else:
        yield InputRecord(str(path), article=article_from_text(text, path.stem))


def read_inputs(paths: Iterable[Path]) -> Iterator[InputRecord]:
    for path in expand_paths(paths):
        yield from read_file(path)


# ---------------------------------------------------------------- output records


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entity_events(enriched: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(entity id, event) for each distinct entity of an enriched article, with its mentions
    and the article's stance toward it."""
    stance_by_id = {
        s["entity_id"]: {"label": s["label"], "score": s["score"]}
        for s in enriched["stance"]
        if s["target_type"] == "entity"
    }
    mentions: dict[str, list[dict[str, Any]]] = {}
    for ent in enriched["entities"]:
        mention = {k: ent[k] for k in ("field", "start", "end", "text", "score")}
        mentions.setdefault(ent["entity_id"], []).append(mention)
    events = []
    for entity in enriched["distinct_entities"]:
        entity_id = entity["entity_id"]
        event: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "article_id": enriched["id"],
            "entity_id": entity_id,
            "name": entity["name"],
            "forms": entity["forms"],
            "label": entity["label"],
            "language": enriched["language"],
            "mentions": mentions[entity_id],
        }
        for optional in ("published_at", "source"):
            if optional in enriched:
                event[optional] = enriched[optional]
        if entity_id in stance_by_id:
            event["stance"] = stance_by_id[entity_id]
        events.append((entity_id, event))
    return events


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def dead_letter(
    *,
    reason: str,
    stage: str,
    key: bytes | None,
    value: bytes | None,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    article_id: str | None = None,
) -> dict[str, Any]:
    """A DLQ record that keeps the original bytes, so nothing is ever lost."""
    return {
        "schema_version": SCHEMA_VERSION,
        "reason": reason,
        "stage": stage,
        "article_id": article_id,
        "key_base64": _b64(key),
        "value_base64": _b64(value or b""),
        "value_size": len(value or b""),
        "source": {
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "timestamp_ms": timestamp_ms,
        },
        "failed_at": utc_now(),
    }
