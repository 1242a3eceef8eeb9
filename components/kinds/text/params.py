"""The text kind's params: the schema of a text application's sections of params.yaml (sentences, conditional,
pretrain). The shared sections, the reader and the checker are components/core/params.py's.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
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
from components.registry.model_uri import parse_model_uri

Bound = NonNegative | None
"""A gate threshold: null (or 0) switches its check off."""


@dataclass(frozen=True)
class DataParams(Section):
    corpus: str
    """Path of the raw corpus: a text file of one sentence per line, CSV/TSV, JSONL, Parquet or a dictd dictionary."""
    format: Literal["auto", "lines", "csv", "tsv", "jsonl", "parquet", "dictd"]
    """auto: by the file's suffix."""
    text_column: str
    """Column holding the sentence in tabular sources."""
    label_column: str
    """Column holding each sentence's label (its condition) in tabular sources."""
    require_label: bool
    """true: ingest refuses a corpus without the label column, and validate quarantines rows without a label.
    false with a conditional model: rows without a label train the unconditional part (a few labelled rows, much
    text); valid and test score labelled rows only. Unconditional models ignore labels."""
    dictd_unit: Literal["definition", "entry"]
    """dictd dictionaries: one row per definition, or per entry (a headword's definitions: long sequences)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.require_label and self.format == "lines":
            raise ParamsError("require_label is true but format is lines: a text file has no label column")


@dataclass(frozen=True)
class ValidateParams(Section):
    min_chars: Positive
    """Shortest sentence in characters; shorter rows are quarantined."""
    max_chars: Positive
    """Longest sentence in characters."""
    min_tokens: Positive
    """Bounds on whitespace-separated tokens, checked before the tokenizer exists."""
    max_tokens: Positive
    """Most whitespace-separated tokens a sentence may have."""
    max_quarantine_fraction: Fraction
    """Fail the stage instead of training on the rest when more than this is quarantined."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_chars < self.min_chars or self.max_tokens < self.min_tokens:
            raise ParamsError("max_chars and max_tokens must be at least min_chars and min_tokens")


@dataclass(frozen=True)
class DatasetParams(Section):
    """Thresholds of the Great Expectations suite over the whole dataset (the check stage)."""

    min_rows: Positive
    """Fewest validated rows the dataset may have."""
    max_rows: Count
    """0: no upper bound."""
    min_mean_tokens: PositiveFloat
    """Bounds on the mean sentence length in whitespace tokens."""
    max_mean_tokens: PositiveFloat
    """Upper bound of the same."""
    max_duplicate_rate: Fraction
    """Share of validated rows that repeat an earlier one after normalisation."""
    max_oov_rate: Fraction | None
    """Optional bound on the mean share of valid/test words never seen in train (null: off; it grows as a corpus
    shrinks, so a bound tuned on one corpus fails a smaller one on sampling alone)."""
    oov_shift_p: Fraction
    """Fail when valid's (or test's) words are unseen in train more often than chance would make them with this
    probability: a same-sized random part of train, scored the same way, is the yardstick (0: no check)."""
    max_reference_oov_rate: Fraction
    """Mean share of words never seen in the last accepted dataset (data/<application>/reference/vocab.txt)."""
    min_rows_per_label: Count
    """Every label needs at least this many train rows (0: no check; labelled corpora only)."""
    label_shift_p: Fraction
    """Fail when the labels of valid (or test) are spread unlike train's past chance with this probability (a
    permutation test's p-value below it; 0: no check; labelled corpora only)."""
    length_shift_p: Fraction
    """Fail when the sentence lengths of valid (or test) differ from train's past chance with this probability (a
    two-sample Kolmogorov-Smirnov p-value below it; 0: no check)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_mean_tokens < self.min_mean_tokens:
            raise ParamsError("max_mean_tokens must be at least min_mean_tokens")


@dataclass(frozen=True)
class TokenizeParams(Section):
    kind: Literal["word", "bpe"]
    """word (word-level vocabulary) or bpe (byte-pair merges)."""
    vocab_size: Annotated[int, Range(ge=8)]
    """Largest vocabulary."""
    min_frequency: Positive
    """A word (or merge) seen fewer times in train is left out of the vocabulary."""
    lowercase: bool
    """Lowercase text before tokenizing."""
    pre_tokenizer: Literal["punct", "whitespace"]
    """punct splits words from punctuation; whitespace keeps pre-tokenised corpora (PTB) as they are."""


FAMILY_REGISTRY = "components.kinds.text.models.families"


@dataclass(frozen=True)
class ModelParams(Section):
    family: str
    """bsvae (Gaussian sentence VAE), vqvae (VQ-VAE with a Transformer prior over its codes), lm (LSTM
    language-model baseline, same sizes, no latent) or transformer_lm (a causal Transformer baseline: embed_dim
    wide, hidden_dim feed-forward, `layers` blocks of `heads` heads); or the module path of a family defined
    elsewhere (components/kinds/text/models/families.py). Its own knobs are in the section of its name."""
    embed_dim: Positive
    """Token embedding width (a Transformer's model width)."""
    hidden_dim: Positive
    """LSTM state width (a Transformer's feed-forward width)."""
    word_dropout: Rate
    """Probability of replacing a decoder input token by <unk>, forcing use of the latent (bsvae, vqvae)."""
    layers: Positive
    """Transformer blocks (transformer_lm; bsvae's Transformer encoder/decoder; vqvae's prior)."""
    heads: Positive
    """Attention heads per block; embed_dim must be a multiple."""
    dropout: Rate
    """Dropout inside the Transformer blocks (bsvae's Transformer halves, transformer_lm, vqvae's prior)."""
    max_positions: Positive
    """Longest token sequence a Transformer (bsvae's halves, transformer_lm) has positions for."""
    conditional: bool
    """Condition on each sentence's label (data.label_column): a learned label vector joins every token embedding
    of the encoder and decoder; vqvae's code prior starts from the label; the label vocabulary comes from the
    tokenize stage (labels.json) and is saved with the model."""
    families: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each family's own section (model.bsvae, model.vqvae: the knobs only that family has), as read; the family
    registry checks them when a model is built or the flow checks params (components/kinds/text/models/families.py)."""

    open_sections = "families"

    @classmethod
    def open_section_types(cls) -> dict[str, type]:
        # Found by name, as a kind is: the stages that read this section but build no model (ingest ... tokenize)
        # then neither import the families' code nor list it among their DVC deps.
        return importlib.import_module(FAMILY_REGISTRY).section_types()


@dataclass(frozen=True)
class TrainParams(EngineParams):
    max_len: Positive
    """Longer sentences are truncated (tokens, before the end token)."""
    lr_schedule: Literal["constant", "cosine"]
    """constant, or cosine decay to 0 after the warm-up."""
    warmup_steps: Count
    """Optimiser steps of linear learning-rate warm-up."""
    beta_schedule: Literal["constant", "monotonic", "cyclical"]
    """constant (beta-VAE), monotonic (linear warm-up) or cyclical annealing."""
    beta_max: NonNegative
    """Largest KL weight beta the schedule reaches."""
    beta_cycles: Positive
    """cyclical: annealing cycles over the run."""
    beta_warmup_fraction: Fraction
    """Share of each cycle (or of training, for monotonic) spent raising beta to beta_max."""
    free_bits: NonNegative
    """KL floor per latent dimension in nats (0 disables)."""
    pretrain_epochs: Count
    """bsvae: first train this many epochs as a plain autoencoder (beta 0), then reset the decoder and train the
    VAE for `epochs` more (Li et al., 2019: pretrained encoder + fresh decoder avoids collapse)."""
    warm_start: Literal["scratch", "champion"]
    """scratch, or champion: start from the @champion's weights when its tokenizer is this run's (the flow puts
    them in warm_start/, a dependency of the train stage; otherwise training starts from scratch)."""
    init_from: str
    """Fine-tune a registered (pretrained) model: `models:/NAME@ALIAS` or `models:/NAME/VERSION`; empty: none. Its
    tokenizer is adopted and its weights start every parameter the two models share (kinds/text/base_model.py)."""
    base_lr_scale: Fraction
    """Fine-tuning: the learning rate of the weights loaded from the base model, as a share of train.lr (the fresh
    ones, label vectors or a label prior, learn at train.lr): small, so a few labelled rows do not undo what the
    base learned while the new parts are still finding their place. 1: one rate for all."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.init_from:
            try:
                parse_model_uri(self.init_from)
            except ValueError as err:
                raise ParamsError(f"init_from {err}") from None
            if self.warm_start == "champion":
                raise ParamsError(
                    f"init_from ({self.init_from}) and train.warm_start: champion both choose the starting weights: "
                    "set train.warm_start to scratch"
                )


@dataclass(frozen=True)
class EvaluateParams(Section):
    iw_samples: Positive
    """Importance samples per sentence for the NLL bound (500 for reported figures)."""
    max_sentences: Count
    """Evaluate on N test sentences spread evenly over the test split (the same ones every run); 0: all."""
    batch_size: Positive
    """Test sentences per batch."""
    rows_per_pass: Positive
    """Importance-sampled (sentence, sample) rows the decoder scores at once: what bounds evaluation's memory (the
    logits are rows x tokens x vocabulary), whatever iw_samples and the test size are."""
    num_samples: Annotated[int, Range(ge=2)]
    """Sentences sampled from the prior for diversity metrics; the report shows the first 20."""
    reconstruct_sentences: Positive
    """Test sentences decoded greedily for reconstruction BLEU and exact match."""
    samples_per_label: Count
    """Conditional models: sentences generated per label for control accuracy and per-label diversity."""
    control_temperature: PositiveFloat
    """Conditional models: the sampling temperature of those sentences (top-p 0.9). Control rises as it falls and
    diversity drops (benchmarks/README.md shows both); the report states the value used."""
    seed: int
    """Seeds sampling and importance samples: reruns give the same figures."""


@dataclass(frozen=True)
class ClassifierParams(Section):
    """The label classifier a conditional application trains on its train split: hashed word and character n-grams,
    averaged into one vector, then a linear layer (fastText-style). It judges generated text (control accuracy);
    its accuracy on real test sentences is the ceiling reported beside it."""

    buckets: Positive
    """Hash buckets shared by all n-grams."""
    dim: Positive
    """Width of the averaged n-gram vector."""
    word_ngrams: Positive
    """Word n-grams up to this length."""
    char_ngrams: list[Positive]
    """[shortest, longest] character n-grams (inside word boundaries)."""
    epochs: Positive
    """Passes over the labelled train rows."""
    batch_size: Positive
    """Sentences per step."""
    lr: PositiveFloat
    """Learning rate (Adam)."""
    seed: int
    """Seeds initialisation and batching."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.char_ngrams) != 2 or self.char_ngrams[0] > self.char_ngrams[1]:
            raise ParamsError(f"char_ngrams: must be [shortest, longest], got {self.char_ngrams}")


@dataclass(frozen=True)
class GateParams(Section):
    """Thresholds a model must meet to be registered. A threshold of 0 or null switches its check off (the gate
    report lists it as disabled): an estimate near zero, such as a small model's noisy mutual information, can then
    never fail the gate by noise."""

    min_baseline_margin: Rate | None
    """The model's NLL must be at least this fraction below the unigram LM's on the same test sentences (0.05: 5%
    fewer nats; 0: merely below it; null: off). Holds on any corpus, unlike max_nll."""
    max_nll: Bound
    """Optional upper bound on the importance-weighted NLL per test sentence (nats); it depends on the corpus's
    sentence length, so it is off (null) by default."""
    max_ppl: Bound
    """Optional upper bound on perplexity per token (null: off)."""
    min_kl: Bound
    """Lower bounds that reject collapsed models (KL, mutual information, active units)."""
    min_mi: Bound
    """Floor on the mutual information between sentence and latent (nats)."""
    min_active_units: Count | None
    """Floor on latent dimensions whose posterior mean varies across sentences."""
    min_recon_bleu: Bound
    """Reconstruction BLEU (0-100) of greedy decoding from the posterior mean."""
    min_codebook_perplexity: Bound
    """vqvae: exp(entropy) of the test codes' frequencies; low means index collapse."""
    min_control_accuracy: Bound
    """Conditional models: optional floor on the share of generated sentences the label classifier assigns to the
    label asked for (null: off; what is reachable depends on the labels and on the classifier)."""
    min_control_ratio: Bound
    """Conditional models: control accuracy at least this fraction of the label classifier's accuracy on real test
    text, the most any generator can be credited with (0.5: half of it; null: off). Means the same with 11 labels or
    45, unlike min_control_accuracy."""
    max_nll_regression: Bound
    """The candidate's NLL may exceed the champion's by at most this many nats per sentence (0: not at all; null: no
    comparison with the champion)."""
    compare_across_data: bool
    """Compare with a champion scored on other data or another tokenizer (their NLLs are not like for like)."""


@dataclass(frozen=True)
class Params(ApplicationParams):
    """One text application's parameters (its section of params.yaml) plus the shared orchestrate section."""

    data: DataParams
    validate: ValidateParams
    split: SplitParams
    dataset: DatasetParams
    tokenize: TokenizeParams
    model: ModelParams
    train: TrainParams
    evaluate: EvaluateParams
    gate: GateParams
    classifier: ClassifierParams | None
    """Only conditional applications have one (their classifier stage); the others leave the section out."""

    def __post_init__(self) -> None:
        super().__post_init__()
        m = self.model
        if m.conditional and not self.classifier:
            raise ParamsError("model.conditional needs a classifier section (it judges control accuracy)")
        if m.conditional and self.evaluate.samples_per_label < 1:
            raise ParamsError(
                "evaluate.samples_per_label must be at least 1 for a conditional model (control accuracy)"
            )


def params_from_dict(raw: dict[str, Any], app: str | None = None) -> Params:
    """Build and check one text application's Params; errors name the key with its application (sentences.train.lr)."""
    return kind_params_from_dict(raw, app, Params, "text")


def load_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> Params:
    """Read and check one application's params (orchestrate.default_application when `app` is None); ParamsError
    names file and key."""
    return load_with(params_from_dict, path, app)
