"""The translation kind's params (`kind: translation`): the schema of a translation application's sections.

A translation application reads pairs, not sentences, so its data, validation, dataset, tokenizer, model,
training, evaluation and gate sections have their own fields; split, register, orchestrate and the engine's knobs
are components/core/params.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from components.core.params import (
    PARAMS_FILE,
    ApplicationParams,
    EngineParams,
    SplitParams,
    kind_params_from_dict,
    load_with,
)
from components.core.schema import (
    Count,
    Fraction,
    NonNegative,
    ParamsError,
    Positive,
    PositiveFloat,
    Range,
    Rate,
    Section,
)

KIND = "translation"
"""The value of `kind:` that marks an application's section as a translation application."""


@dataclass(frozen=True)
class ParallelDataParams(Section):
    corpus: str
    """Aligned files `a.de,a.en`, a directory of `<split>.<lang>[.gz]` files, or a table (csv/tsv/jsonl/parquet)."""
    format: Literal["auto", "files", "csv", "tsv", "jsonl", "parquet"]
    """auto: by what `corpus` is."""
    source_lang: str
    """Language translated from."""
    target_lang: str
    """Language codes: file suffixes (`train.de`) and, for tables, the column names."""
    split_files: dict[Literal["train", "valid", "test"], str]
    """Split -> file stem in a corpus directory (train: train, valid: val, test: test_2016_flickr); a directory
    without a split's files, and any table, is hash-split by `split`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.source_lang == self.target_lang:
            raise ParamsError(f"source_lang and data.target_lang are both {self.source_lang!r}")


@dataclass(frozen=True)
class PairValidateParams(Section):
    min_tokens: Positive
    """Fewest whitespace tokens per side."""
    max_tokens: Positive
    """Whitespace tokens per side."""
    max_chars: Positive
    """Longest side in characters."""
    max_length_ratio: Annotated[float, Range(ge=1)]
    """Largest ratio of the longer side's tokens to the shorter side's (a misaligned pair fails it)."""
    max_quarantine_fraction: Fraction
    """Fail the stage instead of training on the rest when more than this is quarantined."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_tokens < self.min_tokens:
            raise ParamsError("max_tokens must be at least min_tokens")


@dataclass(frozen=True)
class ParallelDatasetParams(Section):
    min_rows: Positive
    """Fewest train pairs the dataset may have."""
    max_duplicate_rate: Fraction
    """Share of train pairs that repeat an earlier pair."""
    max_leak_rate: Fraction
    """Share of valid/test source sentences that also appear in train."""
    max_oov_rate: Fraction | None
    """Optional bound on the share of valid/test words (per side) never seen in train (null: off; it grows as a
    corpus shrinks, so a bound tuned on one corpus fails a smaller one on sampling alone)."""
    oov_shift_p: Fraction
    """Fail when valid's (or test's) words of a side are unseen in train more often than chance would make them
    with this probability: a same-sized random part of train, scored the same way, is the yardstick (0: off)."""
    length_shift_p: Fraction
    """Fail when valid's (or test's) source lengths differ from train's past chance with this probability (a
    two-sample Kolmogorov-Smirnov p-value below it; 0: off)."""
    max_reference_oov_rate: Fraction
    """Share of words (per side) never seen in the last accepted data (data/<app>/reference/vocab.<side>.txt)."""


@dataclass(frozen=True)
class ParallelTokenizeParams(Section):
    joint: bool
    """One BPE vocabulary for both sides (shared embeddings) or one per side."""
    vocab_size: Annotated[int, Range(ge=16)]
    """Largest BPE vocabulary (per side unless joint)."""
    min_frequency: Positive
    """A merge seen fewer times in train is left out."""
    lowercase: bool
    """Lowercase text before tokenizing (BLEU is reported cased)."""


@dataclass(frozen=True)
class TranslationModelParams(Section):
    family: Literal["transformer", "latent"]
    """transformer (autoregressive encoder-decoder) or latent (VQ codes predicted from the source, target tokens
    decoded in parallel)."""
    d_model: Positive
    """Model width."""
    ff_dim: Positive
    """Feed-forward width."""
    heads: Positive
    """Attention heads per layer; d_model must be a multiple."""
    encoder_layers: Positive
    """Encoder layers."""
    decoder_layers: Positive
    """Decoder layers."""
    dropout: Rate
    """Dropout inside the Transformer layers."""
    max_positions: Positive
    """Longest source or target in tokens the model accepts; longer sources are truncated with a warning."""
    compression: Positive
    """latent: target tokens per code (the code sequence is ceil(T / compression) long)."""
    codebook_size: Positive
    """latent: codes in the codebook."""
    prior_layers: Positive
    """latent: decoder layers of the code prior."""
    commitment: NonNegative
    """latent: weight of the commitment loss."""
    ema_decay: Rate
    """latent: decay of the codebook's moving averages."""
    dead_code_threshold: NonNegative
    """latent: reseed codes whose moving-average use falls below this."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.d_model % self.heads:
            raise ParamsError(f"d_model ({self.d_model}) must be a multiple of model.heads ({self.heads})")


@dataclass(frozen=True)
class TranslationTrainParams(EngineParams):
    warmup_steps: Count
    """Linear warm-up, then inverse square root."""
    label_smoothing: Rate
    """Share of probability spread over the vocabulary in the target loss."""
    distill_from: str
    """latent: a trained transformer's model directory whose greedy translations of the train sources replace the
    targets (sequence-level distillation, Kim & Rush 2016); empty: train on the references."""


@dataclass(frozen=True)
class TranslationEvaluateParams(Section):
    max_sentences: Count
    """Test pairs scored (0: all)."""
    decoders: list[Literal["greedy", "beam", "latent"]]
    """What is scored and timed: greedy, beam, latent (the latent family's parallel decoding)."""
    beam_size: Positive
    """Hypotheses kept by beam search."""
    max_length_a: PositiveFloat
    """Longest output: a x source tokens + b (this is a)."""
    max_length_b: Count
    """Longest output: a x source tokens + b."""
    batch_size: Positive
    """Test pairs per batch."""
    speed_sentences: Count
    """Sentences timed at batch 1 (and at batch 64) per decoder."""
    examples: Count
    """Example translations written to reports/<app>/translations.md."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.decoders:
            raise ParamsError("decoders: must name at least one of greedy, beam, latent")


@dataclass(frozen=True)
class TranslationGateParams(Section):
    min_baseline_margin: NonNegative | None
    """BLEU points the model's default decoder must score above copying the source sentence unchanged, on the same
    test split (null: off). Copying scores high between close languages and near 0 between distant ones, so the
    margin means the same on any pair of languages, unlike min_bleu."""
    min_bleu: NonNegative | None
    """Optional floor on sacreBLEU (detokenised, cased) of the model's default decoder on the test split (null: off;
    what a good model reaches depends on the languages and the test set)."""
    max_bleu_regression: NonNegative
    """How much below the champion's BLEU on the same test set a challenger may be."""


@dataclass(frozen=True)
class TranslationParams(ApplicationParams):
    """One translation application's parameters plus the shared orchestrate section."""

    data: ParallelDataParams
    validate: PairValidateParams
    split: SplitParams
    dataset: ParallelDatasetParams
    tokenize: ParallelTokenizeParams
    model: TranslationModelParams
    train: TranslationTrainParams
    evaluate: TranslationEvaluateParams
    gate: TranslationGateParams


def translation_params_from_dict(raw: dict[str, Any], app: str | None = None) -> TranslationParams:
    """Build and check one translation application's params; errors name the key (translation.model.family)."""
    return kind_params_from_dict(raw, app, TranslationParams, KIND)


def load_translation_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> TranslationParams:
    return load_with(translation_params_from_dict, path, app)
