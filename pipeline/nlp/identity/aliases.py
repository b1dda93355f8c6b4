"""The alias table shipped with the package: name keys → entity ids, and first-name classes.

Built from data by `pipeline train aliases` (SlavicNER's cross-lingual ids, CLDR country
names); read once at start. A missing or malformed table stops the worker with the reason:
serving without it would silently give other ids than every other worker.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.contracts import entity_labels

ALIASES_FILE = Path(__file__).with_name("aliases.json")
ALIAS_FORMAT = 1
ID = re.compile(r"^(?P<label>[A-Z]+):[a-z0-9]+(?:[-:][a-z0-9]+)*$")


class AliasTableError(RuntimeError):
    """The alias table cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class AliasTable:
    """keys: label → match key → entity id; names: id → display name; given: first-name key →
    its class's key (Владимир, Володимир, Vladimir → one)."""

    keys: dict[str, dict[str, str]]
    names: dict[str, str]
    given: dict[str, str]
    version: str = ""  # a digest of the file: ids change with the table

    def lookup(self, label: str, key: str) -> str | None:
        return self.keys.get(label, {}).get(key)

    def given_class(self, key: str) -> str:
        return self.given.get(key, key)

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"format": ALIAS_FORMAT, "names": self.names, "given": self.given, "keys": self.keys},
            option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2,
        )


def load_aliases(path: Path = ALIASES_FILE) -> AliasTable:
    """The table at path, checked: every key leads to a named id of a known type (a name
    typed LOC in one article and ORG in another may lead to one id)."""
    try:
        content = path.read_bytes()
        raw = orjson.loads(content)
    except FileNotFoundError:
        raise AliasTableError(f"alias table {path} is missing; reinstall the package") from None
    except orjson.JSONDecodeError as exc:
        raise AliasTableError(f"alias table {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != ALIAS_FORMAT:
        raise AliasTableError(f"alias table {path}: not an alias table of format {ALIAS_FORMAT}")
    try:
        digest = hashlib.blake2s(content, digest_size=6).hexdigest()
        table = AliasTable(dict(raw["keys"]), dict(raw["names"]), dict(raw["given"]), digest)
    except (KeyError, TypeError, ValueError) as exc:
        raise AliasTableError(f"alias table {path}: missing or malformed part {exc}") from None
    labels = set(entity_labels())
    for label, keys in table.keys.items():
        if label not in labels or not isinstance(keys, dict):
            raise AliasTableError(f"alias table {path}: unknown label {label!r}")
        for key, entity_id in keys.items():
            match = ID.match(entity_id) if isinstance(entity_id, str) else None
            if match is None or match["label"] not in labels or entity_id not in table.names:
                raise AliasTableError(f"alias table {path}: bad id {entity_id!r} for {key!r}")
    return table
