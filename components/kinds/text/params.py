"""The text kind's params: typed, strict views of a text application's sections of params.yaml (sentences,
conditional). The shared sections (split, register, orchestrate), the loaders and the checks are
components/core/params.py's; the dataclasses hold types, allowed values and checks, never default values.
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
    _build,
    _fraction,
    _one_of,
    _positive,
    check_engine_fields,
    check_sections,
    choose_application,
    load_with,
)


@dataclass(frozen=True)
class DataParams:
    corpus: str
    """Path of the raw corpus: a text file of one sentence per line, CSV/TSV, JSONL or Parquet."""
    format: str
    """auto (by file suffix), lines, csv, tsv, jsonl or parquet."""
    text_column: str
    """Column holding the sentence in tabular sources."""
    label_column: str
    """Column holding each sentence's label (its condition) in tabular sources."""
    require_label: bool
    """true: ingest refuses a corpus without the label column, and validate quarantines rows without a label.
    false with a conditional model (model.conditional): rows without a label are kept and train the unconditional
    part (limited labels: a few labelled rows, much text); valid and test score labelled rows only.
    Unconditional models ingest labels and ignore them."""
    dictd_unit: str
    """dictd dictionaries (pretraining): definition (one row each) or entry (a headword's definitions in one row:
    long sequences)."""

    def check(self) -> None:
        _one_of("data.format", self.format, ("auto", "lines", "csv", "tsv", "jsonl", "parquet", "dictd"))
        _one_of("data.dictd_unit", self.dictd_unit, ("definition", "entry"))
        if self.require_label and self.format == "lines":
            raise ParamsError("data.require_label is true but data.format is lines: a text file has no label column")


@dataclass(frozen=True)
class ValidateParams:
    min_chars: int
    max_chars: int
    min_tokens: int
    """Bounds on whitespace-separated tokens, checked before the tokenizer exists."""
    max_tokens: int
    max_quarantine_fraction: float
    """Fail the stage instead of training on the rest when more than this is quarantined."""

    def check(self) -> None:
        _positive("validate.min_chars", self.min_chars)
        _at_least("validate.max_chars", self.max_chars, self.min_chars)
        _positive("validate.min_tokens", self.min_tokens)
        _at_least("validate.max_tokens", self.max_tokens, self.min_tokens)
        _fraction("validate.max_quarantine_fraction", self.max_quarantine_fraction)


@dataclass(frozen=True)
class DatasetParams:
    """Thresholds of the Great Expectations suite over the whole dataset (the check stage)."""

    min_rows: int
    max_rows: int
    """0: no upper bound."""
    min_mean_tokens: float
    max_mean_tokens: float
    max_duplicate_rate: float
    """Share of validated rows that repeat an earlier one after normalisation."""
    max_oov_rate: float | None
    """Optional bound on the mean share of valid/test words never seen in train (null: off; it grows as a corpus
    shrinks, so a bound tuned on one corpus fails a smaller one on sampling alone)."""
    oov_shift_p: float
    """Fail when valid's (or test's) words are unseen in train more often than chance would make them with this
    probability: a same-sized random part of train, scored the same way, is the yardstick (0: no check)."""
    max_reference_oov_rate: float
    """Mean share of words never seen in the last accepted dataset (data/reference/vocab.txt)."""
    min_rows_per_label: int
    """Every label needs at least this many train rows (0: no check; labelled corpora only)."""
    label_shift_p: float
    """Fail when the label distribution of valid (or test) differs from train's more than chance would make it
    with this probability (a permutation test's p-value below it: the check scales with the number of rows;
    0: no check; labelled corpora only)."""
    length_shift_p: float
    """Fail when the sentence lengths of valid (or test) differ from train's more than chance would make them with
    this probability (a two-sample Kolmogorov-Smirnov p-value below it; 0: no check)."""

    def check(self) -> None:
        _positive("dataset.min_rows", self.min_rows)
        _at_least("dataset.max_rows", self.max_rows, 0)
        _positive("dataset.min_mean_tokens", self.min_mean_tokens)
        _at_least("dataset.max_mean_tokens", self.max_mean_tokens, self.min_mean_tokens)
        _fraction("dataset.max_duplicate_rate", self.max_duplicate_rate)
        if self.max_oov_rate is not None:
            _fraction("dataset.max_oov_rate", self.max_oov_rate)
        _fraction("dataset.oov_shift_p", self.oov_shift_p)
        _fraction("dataset.max_reference_oov_rate", self.max_reference_oov_rate)
        _at_least("dataset.min_rows_per_label", self.min_rows_per_label, 0)
        _fraction("dataset.label_shift_p", self.label_shift_p)
        _fraction("dataset.length_shift_p", self.length_shift_p)


@dataclass(frozen=True)
class TokenizeParams:
    kind: str
    """word (word-level vocabulary) or bpe (byte-pair merges)."""
    vocab_size: int
    min_frequency: int
    lowercase: bool
    pre_tokenizer: str
    """punct splits words from punctuation; whitespace keeps pre-tokenised corpora (PTB) as they are."""

    def check(self) -> None:
        _one_of("tokenize.kind", self.kind, ("word", "bpe"))
        _one_of("tokenize.pre_tokenizer", self.pre_tokenizer, ("punct", "whitespace"))
        _at_least("tokenize.vocab_size", self.vocab_size, 8)
        _positive("tokenize.min_frequency", self.min_frequency)


@dataclass(frozen=True)
class ModelParams:
    family: str
    """bsvae (Gaussian sentence VAE), vqvae (VQ-VAE with a Transformer prior over its codes), lm (LSTM
    language-model baseline, same sizes, no latent) or transformer_lm (a causal Transformer baseline:
    embed_dim wide, hidden_dim feed-forward, `layers` blocks of `heads` heads)."""
    embed_dim: int
    hidden_dim: int
    latent_dim: int
    """bsvae: Gaussian latent dimensions."""
    word_dropout: float
    """Probability of replacing a decoder input token by <unk>, forcing use of the latent (bsvae, vqvae)."""
    layers: int
    """Transformer blocks (transformer_lm; bsvae's Transformer encoder/decoder; vqvae's prior)."""
    heads: int
    """Attention heads per block; embed_dim must be a multiple."""
    dropout: float
    """Dropout inside the Transformer blocks (bsvae's Transformer halves, transformer_lm, vqvae's prior)."""
    max_positions: int
    """Longest token sequence a Transformer (bsvae's halves, transformer_lm) has positions for."""
    encoder: str
    """bsvae encoder: lstm (bidirectional) or transformer."""
    decoder: str
    """bsvae decoder: lstm or transformer (causal)."""
    codes: int
    """vqvae: discrete codes per sentence."""
    codebook_size: int
    code_dim: int
    codebook_levels: int
    """vqvae: residual quantisation depth, codebooks per code position (each quantises what the ones before it
    missed); the prior then models codes x levels indices per sentence."""
    commitment: float
    """vqvae: weight of the commitment loss."""
    ema_decay: float
    """vqvae: decay of the codebook's moving averages."""
    dead_code_threshold: float
    """vqvae: restart a code used less than this share of a uniformly used code (0: never)."""
    codebook_init: str
    """vqvae: kmeans (over the first batch's encoder outputs) or data (random encoder outputs)."""
    codebook_metric: str
    """vqvae: euclidean, or cosine (encoder outputs and codes l2-normalised: more even code use)."""
    codebook_warmup: int
    """vqvae: training (micro-)batches with the quantiser bypassed (a continuous autoencoder) before the codebook is
    initialised from the then-trained encoder's outputs; 0: quantise from the first batch."""
    conditional: bool
    """Condition on each sentence's label (data.label_column): a learned label vector joins every token embedding
    of the encoder and decoder; vqvae's code prior starts from the label; the label vocabulary comes from the
    tokenize stage (labels.json) and is saved with the model."""
    label_prior: str
    """bsvae with conditional: standard (p(z) = N(0, I)) or learned (p(z|y) = N(mu_y, diag sigma_y^2))."""

    def check(self) -> None:
        _one_of("model.family", self.family, ("bsvae", "vqvae", "lm", "transformer_lm"))
        _one_of("model.encoder", self.encoder, ("lstm", "transformer"))
        _one_of("model.decoder", self.decoder, ("lstm", "transformer"))
        _one_of("model.codebook_init", self.codebook_init, ("kmeans", "data"))
        _one_of("model.codebook_metric", self.codebook_metric, ("euclidean", "cosine"))
        _one_of("model.label_prior", self.label_prior, ("standard", "learned"))
        _at_least("model.codebook_warmup", self.codebook_warmup, 0)
        _positive("model.layers", self.layers)
        _positive("model.heads", self.heads)
        uses_attention = self.family in ("transformer_lm", "vqvae") or (
            self.family == "bsvae" and "transformer" in (self.encoder, self.decoder)
        )
        if uses_attention and self.embed_dim % self.heads:
            raise ParamsError(f"model.embed_dim {self.embed_dim} must be a multiple of model.heads {self.heads}")
        for name in ("embed_dim", "hidden_dim", "latent_dim", "codes", "code_dim", "codebook_levels"):
            _positive(f"model.{name}", getattr(self, name))
        _at_least("model.codebook_size", self.codebook_size, 2)
        _at_least("model.commitment", self.commitment, 0.0)
        _fraction("model.ema_decay", self.ema_decay, closed_one=False)
        _at_least("model.dead_code_threshold", self.dead_code_threshold, 0.0)
        _fraction("model.word_dropout", self.word_dropout, closed_one=False)
        _fraction("model.dropout", self.dropout, closed_one=False)
        _positive("model.max_positions", self.max_positions)


@dataclass(frozen=True)
class TrainParams:
    seed: int
    epochs: int
    max_steps: int
    """Stop after this many optimiser steps; 0 means train all epochs."""
    min_steps: int
    """Train at least this many optimiser steps, repeating epochs when the data is small (0: epochs decide); the
    best weights on valid are kept, so the extra epochs cannot leave a worse model."""
    batch_size: int
    max_len: int
    """Longer sentences are truncated (tokens, before the end token)."""
    lr: float
    lr_schedule: str
    warmup_steps: int
    grad_clip: float
    beta_schedule: str
    """constant (beta-VAE), monotonic (linear warm-up) or cyclical annealing."""
    beta_max: float
    beta_cycles: int
    beta_warmup_fraction: float
    """Share of each cycle (or of training, for monotonic) spent raising beta to beta_max."""
    free_bits: float
    """KL floor per latent dimension in nats (0 disables)."""
    pretrain_epochs: int
    """bsvae: first train this many epochs as a plain autoencoder (beta 0), then reset the decoder and train
    the VAE for `epochs` more (Li et al., 2019: pretrained encoder + fresh decoder avoids collapse)."""
    patience: int
    """Stop when validation -ELBO has not improved for this many epochs (0: never); the best epoch is kept."""
    checkpoint_every: int
    """Save the resumable training state at most this many optimiser steps apart (and at each epoch end);
    0: at epoch ends only."""
    min_checkpoints: int
    """Save it at least this many times a run however short the run, so a killed tiny run resumes too
    (the interval is the smaller of checkpoint_every and steps / min_checkpoints); 0: no such floor."""
    device: str
    """auto (CUDA when present), cpu or cuda."""
    threads: int
    """CPU threads for torch; 0 keeps torch's default."""
    grad_accum: int
    """Micro-batches per optimiser step: batch_size rows are split so that fewer sit in memory at once."""
    precision: str
    """fp32, or bf16 (autocast; for GPUs, not yet measured on one)."""
    compile: bool
    """torch.compile the model (GPU; not yet measured on one)."""
    launcher: str
    """How dvc.yaml starts the train stage: python, or e.g. `torchrun --standalone --nproc-per-node 8`
    for data-parallel training on 8 GPUs (one process each)."""
    warm_start: str
    """scratch, or champion: start from the @champion's weights when its tokenizer is this run's (the flow
    puts them in warm_start/, a dependency of the train stage; otherwise training starts from scratch)."""
    init_from: str
    """Fine-tune a registered (pretrained) model: `models:/NAME@ALIAS` or `models:/NAME/VERSION`; empty: none.
    Its tokenizer is adopted and its weights start every parameter the two models share (components/kinds/text/
    base_model.py)."""

    def check(self) -> None:
        for name in ("epochs", "batch_size", "max_len"):
            _positive(f"train.{name}", getattr(self, name))
        _at_least("train.max_steps", self.max_steps, 0)
        _at_least("train.warmup_steps", self.warmup_steps, 0)
        _at_least("train.pretrain_epochs", self.pretrain_epochs, 0)
        if not (0 < self.lr <= 1):
            raise ParamsError(f"train.lr must be in (0, 1], got {self.lr}")
        _positive("train.grad_clip", self.grad_clip)
        _one_of("train.lr_schedule", self.lr_schedule, ("constant", "cosine"))
        _one_of("train.beta_schedule", self.beta_schedule, ("constant", "monotonic", "cyclical"))
        _at_least("train.beta_max", self.beta_max, 0.0)
        _positive("train.beta_cycles", self.beta_cycles)
        _fraction("train.beta_warmup_fraction", self.beta_warmup_fraction)
        _at_least("train.free_bits", self.free_bits, 0.0)
        _one_of("train.device", self.device, ("auto", "cpu", "cuda"))
        _one_of("train.warm_start", self.warm_start, ("scratch", "champion"))
        if self.init_from:
            from components.kinds.text.base_model import parse_model_uri

            parse_model_uri(self.init_from)
            if self.warm_start == "champion":
                raise ParamsError(
                    f"train.init_from ({self.init_from}) and train.warm_start: champion both choose "
                    "the starting weights: set train.warm_start to scratch"
                )
        check_engine_fields(self)


@dataclass(frozen=True)
class EvaluateParams:
    iw_samples: int
    """Importance samples per sentence for the NLL bound (500 for reported figures)."""
    max_sentences: int
    """Evaluate on N test sentences spread evenly over the test split (the same ones every run); 0 means all."""
    batch_size: int
    rows_per_pass: int
    """Importance-sampled (sentence, sample) rows the decoder scores at once: what bounds evaluation's memory
    (the logits are rows x tokens x vocabulary), whatever iw_samples and the test size are."""
    num_samples: int
    """Sentences sampled from the prior for diversity metrics; the report shows the first 20."""
    reconstruct_sentences: int
    """Test sentences decoded greedily for reconstruction BLEU and exact match."""
    samples_per_label: int
    """Conditional models: sentences generated per label for control accuracy and per-label diversity."""
    control_temperature: float
    """Conditional models: the sampling temperature of those sentences (top-p 0.9). Control rises as it falls and
    diversity drops (benchmarks/README.md shows both); the report states the value used."""
    seed: int

    def check(self) -> None:
        _positive("evaluate.iw_samples", self.iw_samples)
        _at_least("evaluate.max_sentences", self.max_sentences, 0)
        _positive("evaluate.batch_size", self.batch_size)
        _positive("evaluate.rows_per_pass", self.rows_per_pass)
        _at_least("evaluate.num_samples", self.num_samples, 2)
        _positive("evaluate.reconstruct_sentences", self.reconstruct_sentences)
        _at_least("evaluate.samples_per_label", self.samples_per_label, 0)
        _positive("evaluate.control_temperature", self.control_temperature)


@dataclass(frozen=True)
class ClassifierParams:
    """The label classifier a conditional application trains on its train split: hashed word and character
    n-grams, averaged into one vector, then a linear layer (fastText-style). It judges generated text
    (control accuracy); its accuracy on real test sentences is the ceiling reported beside it."""

    buckets: int
    """Hash buckets shared by all n-grams."""
    dim: int
    word_ngrams: int
    """Word n-grams up to this length."""
    char_ngrams: list[int]
    """[shortest, longest] character n-grams (inside word boundaries)."""
    epochs: int
    batch_size: int
    lr: float
    seed: int

    def check(self) -> None:
        for name in ("buckets", "dim", "word_ngrams", "epochs", "batch_size", "lr"):
            _positive(f"classifier.{name}", getattr(self, name))
        if (
            len(self.char_ngrams) != 2
            or not all(isinstance(n, int) for n in self.char_ngrams)
            or not 0 < self.char_ngrams[0] <= self.char_ngrams[1]
        ):
            raise ParamsError(
                f"classifier.char_ngrams must be [shortest, longest] with 0 < shortest <= longest, "
                f"got {self.char_ngrams}"
            )


@dataclass(frozen=True)
class GateParams:
    """Thresholds a model must meet to be registered. A threshold of 0 or null switches its check off (the gate
    report lists it as disabled): an estimate near zero, such as a small model's noisy mutual information, can
    then never fail the gate by noise."""

    min_baseline_margin: float | None
    """The model's NLL must be at least this fraction below the unigram LM's on the same test sentences
    (0.05: 5% fewer nats; 0: merely below it; null: off). Holds on any corpus, unlike max_nll."""
    max_nll: float | None
    """Optional upper bound on the importance-weighted NLL per test sentence (nats); it depends on the corpus's
    sentence length, so it is off (null) by default."""
    max_ppl: float | None
    min_kl: float | None
    """Lower bounds that reject collapsed models (KL, mutual information, active units)."""
    min_mi: float | None
    min_active_units: int | None
    min_recon_bleu: float | None
    """Reconstruction BLEU (0-100) of greedy decoding from the posterior mean."""
    min_codebook_perplexity: float | None
    """vqvae: exp(entropy) of the test codes' frequencies; low means index collapse."""
    min_control_accuracy: float | None
    """Conditional models: optional floor on the share of generated sentences the label classifier assigns to the
    label asked for (null: off; what is reachable depends on the labels and on the classifier)."""
    min_control_ratio: float | None
    """Conditional models: control accuracy at least this fraction of the label classifier's accuracy on real test
    text, the most any generator can be credited with (0.5: half of it; null: off). Means the same with 11 labels
    or 45, unlike min_control_accuracy."""
    max_nll_regression: float | None
    """The candidate's NLL may exceed the champion's by at most this many nats per sentence (0: not at all;
    null: no comparison with the champion)."""
    compare_across_data: bool
    """Compare with a champion scored on other data or another tokenizer (their NLLs are not like for like)."""

    def check(self) -> None:
        if self.min_baseline_margin is not None and not 0 <= self.min_baseline_margin < 1:
            raise ParamsError(f"gate.min_baseline_margin={self.min_baseline_margin}: a fraction in [0, 1) or null")
        for name in (
            "max_nll",
            "max_ppl",
            "min_kl",
            "min_mi",
            "min_active_units",
            "min_recon_bleu",
            "min_codebook_perplexity",
            "min_control_accuracy",
            "min_control_ratio",
            "max_nll_regression",
        ):
            if getattr(self, name) is not None:
                _at_least(f"gate.{name}", getattr(self, name), 0)


@dataclass(frozen=True)
class Params(ApplicationNames):
    """One application's parameters (its section of params.yaml) plus the shared orchestrate section."""

    application: str
    """The application's name: its top-level key in params.yaml (e.g. sentences)."""
    data: DataParams
    validate: ValidateParams
    split: SplitParams
    dataset: DatasetParams
    tokenize: TokenizeParams
    model: ModelParams
    train: TrainParams
    evaluate: EvaluateParams
    gate: GateParams
    register: RegisterParams
    orchestrate: OrchestrateParams
    profiles: dict[str, dict[str, Any]]
    classifier: ClassifierParams | None
    """Only conditional applications have one (their classifier stage); the others leave the section out."""
    """Presets of size knobs that `flows.retrain --profile` writes into the application's sections."""


def load_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> Params:
    """Read and check one application's params (orchestrate.default_application when `app` is None); ParamsError
    names file and key."""
    return load_with(params_from_dict, path, app)


def params_from_dict(raw: dict[str, Any], app: str | None = None) -> Params:
    """Build and check one application's Params; errors name the key with its application (sentences.train.lr)."""
    app = choose_application(raw, app)
    sections = raw[app]
    if not isinstance(sections, dict):
        raise ParamsError(f"{app}: expected a mapping of sections, got {type(sections).__name__}")
    orchestrate = _build(OrchestrateParams, raw.get("orchestrate") or {}, "orchestrate")
    orchestrate.check()
    if sections.get("kind") not in (None, "text"):
        raise ParamsError(
            f"{app} is a {sections['kind']} application: its parameters are read by "
            f"components/kinds/{sections['kind']}/params.py, not as a text application's"
        )
    sections = {"classifier": None, **{k: v for k, v in sections.items() if k != "kind"}}  # classifier: optional
    params = _build(
        Params, {**sections, "application": app, "orchestrate": orchestrate}, app, skip=("application", "orchestrate")
    )
    check_sections(params, app)
    try:
        if params.model.conditional and not params.classifier:
            raise ParamsError("model.conditional needs a classifier section (it judges control accuracy)")
        m = params.model
        positional = m.family == "transformer_lm" or (m.family == "bsvae" and "transformer" in (m.encoder, m.decoder))
        if positional and params.train.max_len + 1 > m.max_positions:  # <bos> + max_len tokens, or tokens + <eos>
            raise ParamsError(
                f"model.max_positions ({m.max_positions}) must be at least train.max_len + 1 "
                f"({params.train.max_len + 1}) for a Transformer: raise model.max_positions"
            )
        if params.model.conditional and params.evaluate.samples_per_label < 1:
            raise ParamsError(
                "evaluate.samples_per_label must be at least 1 for a conditional model "
                "(control accuracy is measured on them)"
            )
    except ParamsError as err:
        raise ParamsError(f"{app}.{err}") from err  # each check names its key (train.lr): say whose it is
    return params
