"""Unconditional sentence generation: the first application (WordNet glosses out of the box).

Data: one sentence per row (text files or tables with a text column), validated row by row
(pandera) and as a dataset (Great Expectations), hash-split, tokenized word- or BPE-level.
Models: the BS-VAE and the VQVAE-LM, judged against the LSTM and Transformer language models.
Metrics and gate: held-out NLL (importance-weighted where there is a latent), KL, mutual
information, active units, reconstruction BLEU, codebook perplexity (components/evaluation/).
Served signature: sample n sentences, reconstruct a text, interpolate between two
(components/serving/signature.py).
"""

from __future__ import annotations

from components.kinds.text.application import TextApplication

SENTENCES = TextApplication(
    name="sentences",
    description="unconditional sentence generation",
    steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
)
