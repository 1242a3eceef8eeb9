"""Typed, strict views of a translation application's section of params.yaml (`kind: translation`).

A translation application reads pairs, not sentences, so its data, validation, dataset, tokenizer, model,
training, evaluation and gate sections have their own fields; the split, register and orchestrate
sections are the text applications' own types. As for text applications, these dataclasses hold types and
checks, never values: every key must be set in params.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.core.params import (
    PARAMS_FILE,
    ApplicationNames,
    OrchestrateParams,
    ParamsError,
    RegisterParams,
    SplitParams,
    _at_least,
    _fraction,
    _one_of,
    _positive,
    check_engine_fields,
    kind_params_from_dict,
    load_with,
)

KIND = "translation"
"""The value of `kind:` that marks an application's section as a translation application."""


@dataclass(frozen=True)
class ParallelDataParams:
    corpus: str
    """Aligned files `a.de,a.en`, a directory of `<split>.<lang>[.gz]` files, or a table (csv/tsv/jsonl/parquet)."""
    format: str
    """auto (by what `corpus` is), files, csv, tsv, jsonl or parquet."""
    source_lang: str
    target_lang: str
    """Language codes: file suffixes (`train.de`) and, for tables, the column names."""
    split_files: dict[str, str]
    """Split -> file stem in a corpus directory (train: train, valid: val, test: test_2016_flickr); a directory
    without a split's files, and any table, is hash-split by `split`."""

    def check(self) -> None:
        _one_of("data.format", self.format, ("auto", "files", "csv", "tsv", "jsonl", "parquet"))
        if self.source_lang == self.target_lang:
            raise ParamsError(f"data.source_lang and data.target_lang are both {self.source_lang!r}")
        unknown = sorted(set(self.split_files) - {"train", "valid", "test"})
        if unknown:
            raise ParamsError(f"data.split_files: unknown split(s) {unknown} (train, valid, test)")


@dataclass(frozen=True)
class PairValidateParams:
    min_tokens: int
    max_tokens: int
    """Whitespace tokens per side."""
    max_chars: int
    max_length_ratio: float
    """Largest ratio of the longer side's tokens to the shorter side's (a misaligned pair fails it)."""
    max_quarantine_fraction: float

    def check(self) -> None:
        _positive("validate.min_tokens", self.min_tokens)
        _at_least("validate.max_tokens", self.max_tokens, self.min_tokens)
        _positive("validate.max_chars", self.max_chars)
        _at_least("validate.max_length_ratio", self.max_length_ratio, 1.0)
        _fraction("validate.max_quarantine_fraction", self.max_quarantine_fraction)


@dataclass(frozen=True)
class ParallelDatasetParams:
    min_rows: int
    max_duplicate_rate: float
    """Share of train pairs that repeat an earlier pair."""
    max_leak_rate: float
    """Share of valid/test source sentences that also appear in train."""
    max_oov_rate: float | None
    """Optional bound on the share of valid/test words (per side) never seen in train (null: off; it grows as a
    corpus shrinks, so a bound tuned on one corpus fails a smaller one on sampling alone)."""
    oov_shift_p: float
    """Fail when valid's (or test's) words of a side are unseen in train more often than chance would make them
    with this probability: a same-sized random part of train, scored the same way, is the yardstick (0: off)."""
    length_shift_p: float
    """Fail when valid's (or test's) source lengths differ from train's past chance with this probability (a
    two-sample Kolmogorov-Smirnov p-value below it; 0: off)."""
    max_reference_oov_rate: float
    """Share of words (per side) never seen in the last accepted data (data/<app>/reference/vocab.<side>.txt)."""

    def check(self) -> None:
        _positive("dataset.min_rows", self.min_rows)
        for key in ("max_duplicate_rate", "max_leak_rate", "max_reference_oov_rate", "oov_shift_p", "length_shift_p"):
            _fraction(f"dataset.{key}", getattr(self, key))
        if self.max_oov_rate is not None:
            _fraction("dataset.max_oov_rate", self.max_oov_rate)


@dataclass(frozen=True)
class ParallelTokenizeParams:
    joint: bool
    """One BPE vocabulary for both sides (shared embeddings) or one per side."""
    vocab_size: int
    min_frequency: int
    lowercase: bool

    def check(self) -> None:
        _at_least("tokenize.vocab_size", self.vocab_size, 16)
        _at_least("tokenize.min_frequency", self.min_frequency, 1)


@dataclass(frozen=True)
class TranslationModelParams:
    family: str
    """transformer (autoregressive encoder-decoder) or latent (VQ codes predicted from the source, target
    tokens decoded in parallel)."""
    d_model: int
    ff_dim: int
    heads: int
    encoder_layers: int
    decoder_layers: int
    dropout: float
    max_positions: int
    """Longest source or target in tokens the model accepts; longer sources are truncated with a warning."""
    compression: int
    """latent: target tokens per code (the code sequence is ceil(T / compression) long)."""
    codebook_size: int
    prior_layers: int
    commitment: float
    ema_decay: float
    dead_code_threshold: float

    def check(self) -> None:
        _one_of("model.family", self.family, ("transformer", "latent"))
        for key in (
            "d_model",
            "ff_dim",
            "heads",
            "encoder_layers",
            "decoder_layers",
            "max_positions",
            "compression",
            "codebook_size",
            "prior_layers",
        ):
            _positive(f"model.{key}", getattr(self, key))
        if self.d_model % self.heads:
            raise ParamsError(f"model.d_model ({self.d_model}) must be a multiple of model.heads ({self.heads})")
        _fraction("model.dropout", self.dropout, closed_one=False)
        _fraction("model.ema_decay", self.ema_decay, closed_one=False)
        _at_least("model.commitment", self.commitment, 0)
        _at_least("model.dead_code_threshold", self.dead_code_threshold, 0)


@dataclass(frozen=True)
class TranslationTrainParams:
    seed: int
    epochs: int
    max_steps: int
    """0: all epochs."""
    min_steps: int
    """Train at least this many optimiser steps, repeating epochs when the data is small (0: epochs decide); the
    best weights on valid are kept, so the extra epochs cannot leave a worse model."""
    batch_size: int
    lr: float
    warmup_steps: int
    grad_clip: float
    label_smoothing: float
    distill_from: str
    """latent: a trained transformer's model directory whose greedy translations of the train sources replace
    the targets (sequence-level distillation, Kim & Rush 2016); empty: train on the references."""
    device: str
    precision: str
    threads: int
    launcher: str
    grad_accum: int
    """Micro-batches per optimiser step: batch_size rows are split so that fewer sit in memory at once."""
    compile: bool
    """torch.compile the model (GPU)."""
    patience: int
    """Stop when the validation figure the engine watches has not improved for this many epochs (0: never)."""
    checkpoint_every: int
    """Save the resumable training state at most this many optimiser steps apart (and at each epoch end)."""
    min_checkpoints: int
    """... and at least this many times a run, so that short runs resume too (0: no such floor)."""

    def check(self) -> None:
        _at_least("train.epochs", self.epochs, 1)
        _positive("train.batch_size", self.batch_size)
        _positive("train.lr", self.lr)
        _at_least("train.warmup_steps", self.warmup_steps, 0)
        _fraction("train.label_smoothing", self.label_smoothing, closed_one=False)
        check_engine_fields(self)


@dataclass(frozen=True)
class TranslationEvaluateParams:
    max_sentences: int
    """Test pairs scored (0: all)."""
    decoders: list[str]
    """What is scored and timed: greedy, beam, latent (the latent family's parallel decoding)."""
    beam_size: int
    max_length_a: float
    max_length_b: int
    """Longest output: a x source tokens + b."""
    batch_size: int
    speed_sentences: int
    """Sentences timed at batch 1 (and at batch 64) per decoder."""
    examples: int
    """Example translations written to reports/<app>/translations.md."""

    def check(self) -> None:
        _at_least("evaluate.max_sentences", self.max_sentences, 0)
        bad = sorted(set(self.decoders) - {"greedy", "beam", "latent"})
        if bad or not self.decoders:
            raise ParamsError(
                f"evaluate.decoders must be a non-empty list of greedy, beam, latent; got {self.decoders}"
            )
        _positive("evaluate.beam_size", self.beam_size)
        _positive("evaluate.max_length_a", self.max_length_a)
        _at_least("evaluate.max_length_b", self.max_length_b, 0)
        _positive("evaluate.batch_size", self.batch_size)
        _at_least("evaluate.speed_sentences", self.speed_sentences, 0)
        _at_least("evaluate.examples", self.examples, 0)


@dataclass(frozen=True)
class TranslationGateParams:
    min_baseline_margin: float | None
    """BLEU points the model's default decoder must score above copying the source sentence unchanged, on the same
    test split (null: off). Copying scores high between close languages and near 0 between distant ones, so the
    margin means the same on any pair of languages, unlike min_bleu."""
    min_bleu: float | None
    """Optional floor on sacreBLEU (detokenised, cased) of the model's default decoder on the test split (null:
    off; what a good model reaches depends on the languages and the test set)."""
    max_bleu_regression: float
    """How much below the champion's BLEU on the same test set a challenger may be."""

    def check(self) -> None:
        for name in ("min_baseline_margin", "min_bleu"):
            if getattr(self, name) is not None:
                _at_least(f"gate.{name}", getattr(self, name), 0)
        _at_least("gate.max_bleu_regression", self.max_bleu_regression, 0)


@dataclass(frozen=True)
class TranslationParams(ApplicationNames):
    """One translation application's parameters plus the shared orchestrate section."""

    application: str
    kind: str
    data: ParallelDataParams
    validate: PairValidateParams
    split: SplitParams
    dataset: ParallelDatasetParams
    tokenize: ParallelTokenizeParams
    model: TranslationModelParams
    train: TranslationTrainParams
    evaluate: TranslationEvaluateParams
    gate: TranslationGateParams
    register: RegisterParams
    orchestrate: OrchestrateParams
    profiles: dict[str, dict[str, Any]]


def translation_params_from_dict(raw: dict[str, Any], app: str | None = None) -> TranslationParams:
    """Build and check one translation application's params; errors name the key (translation.model.family)."""
    return kind_params_from_dict(raw, app, TranslationParams, KIND)


def load_translation_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> TranslationParams:
    return load_with(translation_params_from_dict, path, app)
