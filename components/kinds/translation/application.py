"""Machine translation with VQVAE-LM: a parallel-corpus application with fast latent decoding.

Data: aligned sentence pairs (Multi30k German-English out of the box; aligned files, a directory of split
files or a table), pair contracts with quarantine reasons, provided splits or a hash of the source, dataset
checks (length ratios, duplicates, leaks, OOV per side), joint or per-side BPE. Models: a Transformer
encoder-decoder (greedy, beam) and the VQ latent translator (codes from the source, parallel decoding).
Evaluation: sacreBLEU, chrF, lowercased BLEU, decoding speed; the gate a minimum BLEU.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.applications.base import Application


@dataclass(frozen=True)
class TranslationApplication(Application):
    """An application over sentence pairs: two tokenizers (one file each, the same one when joint) and
    token arrays per side."""

    @property
    def tokenizer_dir(self) -> str:
        return self.data("tokenizer")

    @property
    def tokens(self) -> str:
        return self.data("tokens")

    def lineage_outputs(self, family: str) -> dict[str, tuple[str, str]]:
        """Version tag -> (stage, output) whose dvc.lock hash identifies the run's data, tokenizers and model."""
        return {
            "data.corpus_md5": (self.stage("ingest"), self.data("interim/corpus.parquet")),
            "data.splits_md5": (self.stage("split"), self.data("processed/splits.parquet")),
            "data.tokens_md5": (self.stage("tokenize"), self.tokens),
            "tokenizer.md5": (self.stage("tokenize"), self.tokenizer_dir),
            "model.md5": (self.stage("train"), self.model_dir(family)),
        }


TRANSLATION = TranslationApplication(
    name="translation",
    description="machine translation: Transformer baseline and VQ latent translator",
    steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
    families=("transformer", "latent"),
)
