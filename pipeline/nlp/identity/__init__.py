"""Entity identity: one id per real-world entity across name forms, inflections, scripts and
languages (`Resolver`), from name keys (`keys`), person names (`persons`) and the shipped alias
table (`aliases`)."""

from pipeline.nlp.identity.aliases import AliasTable, AliasTableError, load_aliases
from pipeline.nlp.identity.resolver import Mention, Resolver

__all__ = ["AliasTable", "AliasTableError", "Mention", "Resolver", "load_aliases"]
