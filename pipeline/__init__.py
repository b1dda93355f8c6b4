"""Streaming enrichment of multilingual news: named entities and stance, on Kafka with Faust."""

# What the `train` extra brings (pyproject.toml): training, evaluation, benchmarks and the `hf`
# tagger need it; the serving install has none of it.
TRAIN_EXTRA = ("torch", "transformers", "peft", "matplotlib")
TRAIN_INSTALL = "pip install 'news-enrichment-pipeline[train]'"
