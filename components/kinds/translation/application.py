"""Machine translation with VQVAE-LM: a parallel-corpus application with fast latent decoding.

Data: aligned sentence pairs (Multi30k German-English out of the box; aligned files, a directory of split
files or a table), pair contracts with quarantine reasons, provided splits or a hash of the source, dataset
checks (length ratios, duplicates, leaks, OOV per side), joint or per-side BPE. Models: a Transformer
encoder-decoder (greedy, beam) and the VQ latent translator (codes from the source, parallel decoding).
Evaluation: sacreBLEU, chrF, lowercased BLEU, decoding speed; the gate a minimum BLEU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.applications.base import Application


@dataclass(frozen=True)
class TranslationApplication(Application):
    """An application over sentence pairs: two tokenizers (one file each, the same one when joint) and
    token arrays per side."""

    def reference_dir(self, workspace: str | Path) -> Path:
        """The last accepted data's vocabularies per side (tracked in git; the flow rewrites them)."""
        return Path(workspace) / self.output(workspace, "check", "--reference-dir")

    def lineage_flags(self) -> dict[str, tuple[str, str]]:
        return {
            **super().lineage_flags(),
            "data.tokens_md5": ("tokenize", "--out-dir"),
            "tokenizer.md5": ("tokenize", "--tokenizer-dir"),
        }


TRANSLATION = TranslationApplication(
    name="translation",
    description="machine translation: Transformer baseline and VQ latent translator",
    steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
    families=("transformer", "latent"),
)
