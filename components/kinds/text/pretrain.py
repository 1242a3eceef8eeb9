"""Pretraining: the BS-VAE and the VQVAE-LM trained once on plenty of unlabelled text, to be fine-tuned by every
other text application (train.init_from, components/kinds/text/base_model.py).

Data: GCIDE, the GNU Collaborative International Dictionary of English (Webster 1913 plus additions, GPL-2+), read
from dictd's format (components/data/dictd.py): one row per definition, quotations, notes and synonym lists cut
with their reasons in the quarantine. The split stage drops every definition that is a valid or test sentence of
another text application (GCIDE took senses from WordNet), and the check stage reports that none is left.
Tokenized with BPE, so that fine-tuning on any text meets no <unk>.
"""

from __future__ import annotations

from components.kinds.text.application import TextApplication

PRETRAIN = TextApplication(
    name="pretrain",
    description="pretraining on a dictionary (GCIDE) for fine-tuning",
    steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
)
