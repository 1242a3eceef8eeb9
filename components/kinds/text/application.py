"""What every text application shares: a tokenizer, token arrays and, when labelled, a label vocabulary and a
label classifier; the outputs whose dvc.lock hashes are a registered version's lineage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.applications.base import Application
from components.kinds.text.params import FAMILY_REGISTRY


@dataclass(frozen=True)
class TextApplication(Application):
    """An application over tokenized text: it has a tokenizer and token arrays beside its tables, and, when
    `labelled`, a label vocabulary versioned with the tokenizer and a label classifier."""

    labelled: bool = False

    def model_families(self) -> tuple[str, ...]:
        """Every registered text family (components/kinds/text/models/families.py), found by name so that the
        catalog, which lists this application, imports no model code."""
        import importlib

        return tuple(importlib.import_module(FAMILY_REGISTRY).FAMILIES)

    def tokenizer(self, workspace: str | Path) -> Path:
        return Path(workspace) / self.output(workspace, "tokenize", "--tokenizer")

    def labels(self, workspace: str | Path) -> Path:
        """The label vocabulary the tokenize stage writes (labelled applications)."""
        return Path(workspace) / self.output(workspace, "tokenize", "--labels")

    def reference_vocab(self, workspace: str | Path) -> Path:
        """The last accepted dataset's words (tracked in git; the flow rewrites it after a registration)."""
        return Path(workspace) / self.output(workspace, "check", "--reference")

    def lineage_flags(self) -> dict[str, tuple[str, str]]:
        labelled = {"labels.md5": ("tokenize", "--labels"), "classifier.md5": ("classifier", "--out-dir")}
        return {
            **super().lineage_flags(),
            "data.tokens_md5": ("tokenize", "--out-dir"),
            "tokenizer.md5": ("tokenize", "--tokenizer"),
            **(labelled if self.labelled else {}),
        }
