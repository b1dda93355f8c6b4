"""Streaming enrichment of multilingual news: named entities and stance, on Kafka with Faust."""
