"""Kafka plumbing: the local broker, topic admin, producing and tailing. No tensors here."""
