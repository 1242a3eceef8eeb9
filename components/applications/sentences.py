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

from dataclasses import dataclass

from components.applications.base import Application


@dataclass(frozen=True)
class TextApplication(Application):
    """An application over tokenized text: it has a tokenizer and token arrays beside its tables, and, when
    `labelled`, a label vocabulary versioned with the tokenizer and a label classifier."""

    labelled: bool = False

    @property
    def tokenizer(self) -> str:
        return self.data("tokenizer/tokenizer.json")

    @property
    def tokens(self) -> str:
        return self.data("tokens")

    @property
    def labels(self) -> str:
        return self.data("tokenizer/labels.json")

    def lineage_outputs(self, family: str) -> dict[str, tuple[str, str]]:
        """Version tag -> (stage, output) whose dvc.lock hash identifies the run's data, tokenizer and model."""
        return {
            "data.corpus_md5": (self.stage("ingest"), self.data("interim/corpus.parquet")),
            "data.splits_md5": (self.stage("split"), self.data("processed/splits.parquet")),
            "data.tokens_md5": (self.stage("tokenize"), self.tokens),
            "tokenizer.md5": (self.stage("tokenize"), self.tokenizer),
            "model.md5": (self.stage("train"), self.model_dir(family)),
            **({"labels.md5": (self.stage("tokenize"), self.labels),
                "classifier.md5": (self.stage("classifier"), self.model_dir("classifier"))} if self.labelled else {}),
        }


SENTENCES = TextApplication(
    name="sentences",
    description="unconditional sentence generation",
    steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
    families=("bsvae", "vqvae", "lm", "transformer_lm"),
)
