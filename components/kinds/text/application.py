"""What every text application shares: a tokenizer, token arrays and, when labelled, a label vocabulary and a
label classifier; the outputs whose dvc.lock hashes are a registered version's lineage."""

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
            **(
                {
                    "labels.md5": (self.stage("tokenize"), self.labels),
                    "classifier.md5": (self.stage("classifier"), self.model_dir("classifier")),
                }
                if self.labelled
                else {}
            ),
        }
