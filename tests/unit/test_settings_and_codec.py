"""The README documents every setting; security settings reach both Kafka clients; the orjson
codec round-trips Faust records."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import Settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_settings_table_is_current() -> None:
    assert settings_table() in README.read_text(encoding="utf-8")


def test_settings_come_from_pipeline_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_PARTITIONS", "8")
    monkeypatch.setenv("PIPELINE_STANCE_TOPICS", "peace talks; sanctions ;")
    monkeypatch.setenv("PIPELINE_LANGUAGES", "uk, en")
    settings = Settings()
    assert settings.partitions == 8
    assert settings.stance_topics == ("peace talks", "sanctions")
    assert settings.languages == ("uk", "en")


def test_kafka_security_reaches_both_client_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    import faust

    from pipeline.kafka.security import client_config, faust_credentials

    monkeypatch.setenv("PIPELINE_SECURITY_PROTOCOL", "sasl_plaintext")
    monkeypatch.setenv("PIPELINE_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("PIPELINE_SASL_USERNAME", "newsroom")
    monkeypatch.setenv("PIPELINE_SASL_PASSWORD", "s3cret")
    settings = Settings()
    assert "s3cret" not in repr(settings)
    config = client_config(settings)
    assert config["security_protocol"] == "SASL_PLAINTEXT"
    assert (config["sasl_mechanism"], config["sasl_plain_username"]) == (
        "SCRAM-SHA-512",
        "newsroom",
    )
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("newsroom", "s3cret")
    assert credentials.protocol.value == "SASL_PLAINTEXT"
    monkeypatch.setenv("PIPELINE_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValueError, match="choose one of PLAINTEXT, SSL, SASL_PLAINTEXT"):
        client_config(Settings())


def test_orjson_codec_is_registered() -> None:
    from faust.serializers import codecs

    import pipeline.app  # noqa: F401  (registers the codec)

    record = {"title": "Київ", "entities": [{"start": 0, "score": 0.5}]}
    data = codecs.dumps("orjson", record)
    assert data == '{"title":"Київ","entities":[{"start":0,"score":0.5}]}'.encode()
    assert codecs.loads("orjson", data) == record


@pytest.mark.parametrize("table", ["seen_ids", "entity_names"])
def test_tables_read_back_what_they_write(table: str) -> None:
    """What a restarted worker does with each changelog record: a value type Faust cannot read
    back (a dict is not a model) stalls the table's recovery."""
    import pipeline.app

    written = {"seen_ids": "0:17", "entity_names": {"name": "Київ", "forms": ["Київ", "Kyiv"]}}
    found = getattr(pipeline.app, table)
    app = pipeline.app.app
    data = app.serializers.dumps_value(
        found.value_type, written[table], serializer=found.value_serializer
    )
    back = app.serializers.loads_value(found.value_type, data, serializer=found.value_serializer)
    assert back == written[table]
