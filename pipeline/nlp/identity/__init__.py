"""Entity identity: one id per real-world entity across name forms, inflections, scripts and
languages (`Resolver`), from name keys (`keys`), person names (`persons`) and the shipped alias
table (`aliases`)."""

from functools import cache
from pathlib import Path

from pipeline.nlp.identity.aliases import ALIASES_FILE, AliasTable, AliasTableError, load_aliases
from pipeline.nlp.identity.resolver import Mention, Resolver, by_fullness, label_of


def load_resolver(aliases: Path | None = None) -> Resolver:
    """The resolver on an alias table (None: the shipped one), read once per process."""
    return _resolver(aliases or ALIASES_FILE)


@cache
def _resolver(aliases: Path) -> Resolver:
    return Resolver(load_aliases(aliases))


__all__ = [
    "ALIASES_FILE",
    "AliasTable",
    "AliasTableError",
    "Mention",
    "Resolver",
    "by_fullness",
    "label_of",
    "load_aliases",
    "load_resolver",
]
