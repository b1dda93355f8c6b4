"""Training and evaluation of the tagger's heads: dataset readers, loops, metrics."""
