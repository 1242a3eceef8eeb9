"""Conditional text generation: "text that meets given conditions", and prompted continuation.

Data: sentences with a label (WordNet glosses with their 45 lexicographer categories out of the box; any
table with a label column), a row without a label quarantined; splits hash-stable, each label split in the
same proportions; the check stage bounds label shift between splits. Tokenized with BPE (no <unk> for
unseen words); the label vocabulary is versioned with the tokenizer and travels with the model.
Models: every family conditioned on the label (models/base.py). Evaluation adds conditional NLL per label,
an independent label classifier (its own stage) and control accuracy; the gate a minimum control accuracy.
"""

from __future__ import annotations

from components.kinds.text.application import TextApplication

CONDITIONAL = TextApplication(
    name="conditional",
    description="label-conditioned text generation and prompted continuation",
    steps=("ingest", "validate", "split", "check", "tokenize", "classifier", "train", "evaluate"),
    labelled=True,
)
