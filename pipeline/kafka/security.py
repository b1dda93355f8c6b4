"""Kafka TLS and SASL settings, translated once for each client library the pipeline uses."""

from __future__ import annotations

import ssl
from typing import Any

import faust

from pipeline.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection keyword arguments for kafka-python clients (admin, producer, consumer)."""
    protocol = _protocol(settings)
    config: dict[str, Any] = {
        "bootstrap_servers": settings.broker.split(","),
        "security_protocol": protocol,
    }
    if protocol.startswith("SASL"):
        config |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password,
        }
    if protocol.endswith("SSL"):
        config |= {
            "ssl_cafile": settings.ssl_cafile or None,
            "ssl_certfile": settings.ssl_certfile or None,
            "ssl_keyfile": settings.ssl_keyfile or None,
        }
    return config


def faust_credentials(settings: Settings) -> faust.auth.Credentials | None:
    """The same settings as Faust's `broker_credentials` (None for PLAINTEXT)."""
    protocol = _protocol(settings)
    context = _ssl_context(settings) if protocol.endswith("SSL") else None
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context is not None else None


def _protocol(settings: Settings) -> str:
    protocol = settings.security_protocol.upper()
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"PIPELINE_SECURITY_PROTOCOL={settings.security_protocol!r}: "
            f"choose one of {', '.join(PROTOCOLS)}"
        )
    return protocol


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ssl_cafile or None)
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile or None)
    return context
