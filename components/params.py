"""Typed, strict views of params.yaml.

Every stage reads its section through these dataclasses, so a typo in params.yaml
(an unknown key, a string where a number belongs, an absurd value) fails at load
time with the key's full path instead of surfacing as a strange model later.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = "params.yaml"


class ParamsError(ValueError):
    """A parameter is missing, unknown, mistyped or out of range."""


@dataclass(frozen=True)
class DataParams:
    corpus: str = "data/raw/wordnet_glosses.txt"
    """Path of the raw corpus: a text file of one sentence per line, CSV/TSV, JSONL or Parquet."""
    format: str = "auto"
    """auto (by file suffix), lines, csv, tsv, jsonl or parquet."""
    text_column: str = "text"
    """Column holding the sentence in tabular sources."""

    def check(self) -> None:
        _one_of("data.format", self.format, ("auto", "lines", "csv", "tsv", "jsonl", "parquet"))


@dataclass(frozen=True)
class ValidateParams:
    min_chars: int = 1
    max_chars: int = 1000
    min_tokens: int = 1
    """Bounds on whitespace-separated tokens, checked before the tokenizer exists."""
    max_tokens: int = 64
    max_quarantine_fraction: float = 0.05
    """Fail the stage instead of training on the rest when more than this is quarantined."""

    def check(self) -> None:
        _positive("validate.min_chars", self.min_chars)
        _at_least("validate.max_chars", self.max_chars, self.min_chars)
        _positive("validate.min_tokens", self.min_tokens)
        _at_least("validate.max_tokens", self.max_tokens, self.min_tokens)
        _fraction("validate.max_quarantine_fraction", self.max_quarantine_fraction)


@dataclass(frozen=True)
class SplitParams:
    valid_fraction: float = 0.05
    test_fraction: float = 0.05
    salt: str = "split-v1"
    """Part of the hash that assigns splits; changing it reshuffles every sentence."""

    def check(self) -> None:
        _fraction("split.valid_fraction", self.valid_fraction, open_zero=True)
        _fraction("split.test_fraction", self.test_fraction, open_zero=True)
        if self.valid_fraction + self.test_fraction >= 0.5:
            raise ParamsError("split: valid_fraction + test_fraction must be below 0.5")


@dataclass(frozen=True)
class DatasetParams:
    """Thresholds of the Great Expectations suite over the whole dataset (the check stage)."""

    min_rows: int = 100
    max_rows: int = 0
    """0: no upper bound."""
    min_mean_tokens: float = 2.0
    max_mean_tokens: float = 40.0
    max_duplicate_rate: float = 0.05
    """Share of validated rows that repeat an earlier one after normalisation."""
    max_oov_rate: float = 0.15
    """Mean share of valid/test words never seen in train."""
    max_reference_oov_rate: float = 0.2
    """Mean share of words never seen in the last accepted dataset (data/reference/vocab.txt)."""

    def check(self) -> None:
        _positive("dataset.min_rows", self.min_rows)
        _at_least("dataset.max_rows", self.max_rows, 0)
        _positive("dataset.min_mean_tokens", self.min_mean_tokens)
        _at_least("dataset.max_mean_tokens", self.max_mean_tokens, self.min_mean_tokens)
        _fraction("dataset.max_duplicate_rate", self.max_duplicate_rate)
        _fraction("dataset.max_oov_rate", self.max_oov_rate)
        _fraction("dataset.max_reference_oov_rate", self.max_reference_oov_rate)


@dataclass(frozen=True)
class TokenizeParams:
    kind: str = "word"
    """word (word-level vocabulary) or bpe (byte-pair merges)."""
    vocab_size: int = 10000
    min_frequency: int = 2
    lowercase: bool = True
    pre_tokenizer: str = "punct"
    """punct splits words from punctuation; whitespace keeps pre-tokenised corpora (PTB) as they are."""

    def check(self) -> None:
        _one_of("tokenize.kind", self.kind, ("word", "bpe"))
        _one_of("tokenize.pre_tokenizer", self.pre_tokenizer, ("punct", "whitespace"))
        _at_least("tokenize.vocab_size", self.vocab_size, 8)
        _positive("tokenize.min_frequency", self.min_frequency)


@dataclass(frozen=True)
class ModelParams:
    family: str = "bsvae"
    """bsvae (Gaussian sentence VAE), vqvae (VQ-VAE with a Transformer prior over its codes), lm (LSTM
    language-model baseline, same sizes, no latent) or transformer_lm (a causal Transformer baseline:
    embed_dim wide, hidden_dim feed-forward, `layers` blocks of `heads` heads)."""
    embed_dim: int = 128
    hidden_dim: int = 256
    latent_dim: int = 32
    """bsvae: Gaussian latent dimensions."""
    word_dropout: float = 0.3
    """Probability of replacing a decoder input token by <unk>, forcing use of the latent (bsvae, vqvae)."""
    layers: int = 2
    """Transformer blocks (transformer_lm; bsvae's Transformer encoder/decoder; vqvae's prior)."""
    heads: int = 4
    """Attention heads per block; embed_dim must be a multiple."""
    encoder: str = "lstm"
    """bsvae encoder: lstm (bidirectional) or transformer."""
    decoder: str = "lstm"
    """bsvae decoder: lstm or transformer (causal)."""
    codes: int = 16
    """vqvae: discrete codes per sentence."""
    codebook_size: int = 512
    code_dim: int = 64
    codebook_levels: int = 1
    """vqvae: residual quantisation depth, codebooks per code position (each quantises what the ones before it
    missed); the prior then models codes x levels indices per sentence."""
    commitment: float = 0.25
    """vqvae: weight of the commitment loss."""
    ema_decay: float = 0.99
    """vqvae: decay of the codebook's moving averages."""
    dead_code_threshold: float = 0.01
    """vqvae: restart a code used less than this share of a uniformly used code (0: never)."""
    codebook_init: str = "kmeans"
    """vqvae: kmeans (over the first batch's encoder outputs) or data (random encoder outputs)."""
    codebook_metric: str = "euclidean"
    """vqvae: euclidean, or cosine (encoder outputs and codes l2-normalised: more even code use)."""
    codebook_warmup: int = 0
    """vqvae: training (micro-)batches with the quantiser bypassed (a continuous autoencoder) before the codebook is
    initialised from the then-trained encoder's outputs; 0: quantise from the first batch."""

    def check(self) -> None:
        _one_of("model.family", self.family, ("bsvae", "vqvae", "lm", "transformer_lm"))
        _one_of("model.encoder", self.encoder, ("lstm", "transformer"))
        _one_of("model.decoder", self.decoder, ("lstm", "transformer"))
        _one_of("model.codebook_init", self.codebook_init, ("kmeans", "data"))
        _one_of("model.codebook_metric", self.codebook_metric, ("euclidean", "cosine"))
        _at_least("model.codebook_warmup", self.codebook_warmup, 0)
        _positive("model.layers", self.layers)
        _positive("model.heads", self.heads)
        uses_attention = (self.family in ("transformer_lm", "vqvae")
                          or (self.family == "bsvae" and "transformer" in (self.encoder, self.decoder)))
        if uses_attention and self.embed_dim % self.heads:
            raise ParamsError(f"model.embed_dim {self.embed_dim} must be a multiple of model.heads {self.heads}")
        for name in ("embed_dim", "hidden_dim", "latent_dim", "codes", "code_dim", "codebook_levels"):
            _positive(f"model.{name}", getattr(self, name))
        _at_least("model.codebook_size", self.codebook_size, 2)
        _at_least("model.commitment", self.commitment, 0.0)
        _fraction("model.ema_decay", self.ema_decay, closed_one=False)
        _at_least("model.dead_code_threshold", self.dead_code_threshold, 0.0)
        _fraction("model.word_dropout", self.word_dropout, closed_one=False)


@dataclass(frozen=True)
class TrainParams:
    seed: int = 1234
    epochs: int = 4
    max_steps: int = 0
    """Stop after this many optimiser steps; 0 means train all epochs."""
    batch_size: int = 64
    max_len: int = 48
    """Longer sentences are truncated (tokens, before the end token)."""
    lr: float = 0.001
    lr_schedule: str = "cosine"
    warmup_steps: int = 100
    grad_clip: float = 5.0
    beta_schedule: str = "cyclical"
    """constant (beta-VAE), monotonic (linear warm-up) or cyclical annealing."""
    beta_max: float = 1.0
    beta_cycles: int = 4
    beta_warmup_fraction: float = 0.5
    """Share of each cycle (or of training, for monotonic) spent raising beta to beta_max."""
    free_bits: float = 0.1
    """KL floor per latent dimension in nats (0 disables)."""
    pretrain_epochs: int = 0
    """bsvae: first train this many epochs as a plain autoencoder (beta 0), then reset the decoder and train
    the VAE for `epochs` more (Li et al., 2019: pretrained encoder + fresh decoder avoids collapse)."""
    patience: int = 0
    """Stop when validation -ELBO has not improved for this many epochs (0: never); the best epoch is kept."""
    checkpoint_every: int = 500
    """Save the resumable training state every N optimiser steps (and at each epoch end); 0: epoch ends only."""
    device: str = "auto"
    """auto (CUDA when present), cpu or cuda."""
    threads: int = 0
    """CPU threads for torch; 0 keeps torch's default."""
    grad_accum: int = 1
    """Micro-batches per optimiser step: batch_size rows are split so that fewer sit in memory at once."""
    precision: str = "fp32"
    """fp32, or bf16 (autocast; for GPUs, not yet measured on one)."""
    compile: bool = False
    """torch.compile the model (GPU; not yet measured on one)."""
    launcher: str = "python"
    """How dvc.yaml starts the train stage: python, or e.g. `torchrun --standalone --nproc-per-node 8`
    for data-parallel training on 8 GPUs (one process each)."""
    warm_start: str = "scratch"
    """scratch, or champion: start from the @champion's weights when its tokenizer is this run's (the flow
    puts them in warm_start/, a dependency of the train stage; otherwise training starts from scratch)."""

    def check(self) -> None:
        for name in ("epochs", "batch_size", "max_len"):
            _positive(f"train.{name}", getattr(self, name))
        _at_least("train.max_steps", self.max_steps, 0)
        _at_least("train.warmup_steps", self.warmup_steps, 0)
        _at_least("train.threads", self.threads, 0)
        _at_least("train.checkpoint_every", self.checkpoint_every, 0)
        _at_least("train.patience", self.patience, 0)
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
        _positive("train.grad_accum", self.grad_accum)
        _one_of("train.precision", self.precision, ("fp32", "bf16"))
        if self.launcher.split()[:1] not in (["python"], ["torchrun"]):
            raise ParamsError(f"train.launcher must start with python or torchrun, got {self.launcher!r}")


@dataclass(frozen=True)
class EvaluateParams:
    iw_samples: int = 50
    """Importance samples per sentence for the NLL bound (500 for reported figures)."""
    max_sentences: int = 0
    """Evaluate on the first N test sentences; 0 means all."""
    batch_size: int = 64
    num_samples: int = 200
    """Sentences sampled from the prior for diversity metrics; the report shows the first 20."""
    reconstruct_sentences: int = 500
    """Test sentences decoded greedily for reconstruction BLEU and exact match."""
    seed: int = 0

    def check(self) -> None:
        _positive("evaluate.iw_samples", self.iw_samples)
        _at_least("evaluate.max_sentences", self.max_sentences, 0)
        _positive("evaluate.batch_size", self.batch_size)
        _at_least("evaluate.num_samples", self.num_samples, 2)
        _positive("evaluate.reconstruct_sentences", self.reconstruct_sentences)


@dataclass(frozen=True)
class GateParams:
    max_nll: float = 60.0
    """Upper bound on the importance-weighted NLL per test sentence (nats)."""
    max_ppl: float = 1000.0
    min_kl: float = 0.0
    """Lower bounds that reject collapsed models (KL, mutual information, active units); 0 disables."""
    min_mi: float = 0.0
    min_active_units: int = 0
    min_recon_bleu: float = 0.0
    """Reconstruction BLEU (0-100) of greedy decoding from the posterior mean."""
    min_codebook_perplexity: float = 0.0
    """vqvae: exp(entropy) of the test codes' frequencies; low means index collapse (0 disables)."""
    max_nll_regression: float = 0.5
    """The candidate's NLL may exceed the champion's by at most this many nats per sentence."""
    compare_across_data: bool = False
    """Compare with a champion scored on other data or another tokenizer (their NLLs are not like for like)."""

    def check(self) -> None:
        _positive("gate.max_nll", self.max_nll)
        _positive("gate.max_ppl", self.max_ppl)
        _at_least("gate.min_kl", self.min_kl, 0.0)
        _at_least("gate.min_mi", self.min_mi, 0.0)
        _at_least("gate.min_active_units", self.min_active_units, 0)
        _at_least("gate.min_recon_bleu", self.min_recon_bleu, 0.0)
        _at_least("gate.min_codebook_perplexity", self.min_codebook_perplexity, 0.0)
        _at_least("gate.max_nll_regression", self.max_nll_regression, 0.0)


@dataclass(frozen=True)
class RegisterParams:
    model_name: str = "bsvae-wordnet"
    experiment: str = "retrain"
    alias: str = "challenger"
    auto_promote: bool = False
    """Move `champion` to the new version when it beats the champion's NLL by promote_margin."""
    promote_margin: float = 0.5

    def check(self) -> None:
        for name in ("model_name", "experiment", "alias"):
            if not getattr(self, name).strip():
                raise ParamsError(f"register.{name} must not be empty")
        if self.alias in ("champion", "previous-champion"):
            raise ParamsError(f"register.alias {self.alias!r} is reserved for promotion")
        _at_least("register.promote_margin", self.promote_margin, 0.0)


@dataclass(frozen=True)
class OrchestrateParams:
    """How the Prefect flow runs around the DVC stages (no stage reads this section)."""

    deployment: str = "scheduled-retrain"
    """Name of the deployment `python -m flows.serve` creates."""
    cron: str = "0 3 * * 1"
    """When the deployment runs (cron syntax, in `timezone`)."""
    timezone: str = "UTC"
    update_imports: bool = True
    """`dvc update` every imported source (dvc import / import-url) before the stages run: picks up new data."""
    push: bool = True
    """`dvc push` the run's data and model to the default DVC remote after registration."""
    lock_timeout_s: float = 0.0
    """How long a run waits for another run on the same workspace to finish; 0: refuse at once."""
    retries: int = 2
    """Retries of the tasks that talk to MLflow or a DVC remote, after transient failures only."""
    retry_delay_s: float = 5.0
    """First retry delay; each further retry waits 4 times longer (5, 20, 80 s ...)."""

    def check(self) -> None:
        if not self.deployment.strip():
            raise ParamsError("orchestrate.deployment must not be empty")
        fields = self.cron.split()
        if len(fields) != 5:
            raise ParamsError(f"orchestrate.cron must have 5 fields (minute hour day month weekday), got {self.cron!r}")
        _at_least("orchestrate.lock_timeout_s", self.lock_timeout_s, 0.0)
        _at_least("orchestrate.retries", self.retries, 0)
        _at_least("orchestrate.retry_delay_s", self.retry_delay_s, 0.0)
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParamsError(f"orchestrate.timezone: unknown time zone {self.timezone!r} (e.g. UTC, Europe/Paris)")


@dataclass(frozen=True)
class Params:
    data: DataParams = field(default_factory=DataParams)
    validate: ValidateParams = field(default_factory=ValidateParams)
    split: SplitParams = field(default_factory=SplitParams)
    dataset: DatasetParams = field(default_factory=DatasetParams)
    tokenize: TokenizeParams = field(default_factory=TokenizeParams)
    model: ModelParams = field(default_factory=ModelParams)
    train: TrainParams = field(default_factory=TrainParams)
    evaluate: EvaluateParams = field(default_factory=EvaluateParams)
    gate: GateParams = field(default_factory=GateParams)
    register: RegisterParams = field(default_factory=RegisterParams)
    orchestrate: OrchestrateParams = field(default_factory=OrchestrateParams)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Presets of size knobs that `flows.retrain --profile` writes into the sections above."""


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and check params.yaml; raise ParamsError naming the file and key on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: parameters file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from err
    try:
        return params_from_dict(raw)
    except ParamsError as err:
        raise ParamsError(f"{path}: {err}") from err


def params_from_dict(raw: dict[str, Any]) -> Params:
    params = _build(Params, raw, "")
    for section in dataclasses.fields(Params):
        value = getattr(params, section.name)
        if hasattr(value, "check"):
            value.check()
    check_profiles(params.profiles)
    return params


def check_profiles(profiles: dict[str, dict[str, Any]]) -> None:
    """Every profile must set the same knobs, so switching between profiles is reversible."""
    keysets = {name: frozenset(flatten(p or {})) for name, p in profiles.items()}
    if len(set(keysets.values())) > 1:
        ref_name, ref = next(iter(keysets.items()))
        for name, keys in keysets.items():
            if keys != ref:
                diff = sorted(keys ^ ref)
                raise ParamsError(f"profiles: {name!r} and {ref_name!r} set different keys: {diff}")
    for name, keys in keysets.items():
        for key in keys:
            params_from_dict_partial(key, flatten(profiles[name])[key], where=f"profiles.{name}")


def parse_assignment(text: str) -> tuple[str, Any]:
    """'train.epochs=3' -> ('train.epochs', 3); the value is read as YAML, so types survive."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ParamsError(f"--set expects KEY=VALUE, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def params_from_dict_partial(dotted: str, value: Any, where: str) -> None:
    """Type-check one dotted key against the dataclasses without building the rest."""
    section, _, name = dotted.partition(".")
    cls = _section_types().get(section)
    if cls is None or name not in {f.name for f in dataclasses.fields(cls)}:
        raise ParamsError(f"{where}: unknown parameter {dotted!r}")
    _build(cls, {name: value}, section)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Params)
    return {name: t for name, t in hints.items() if dataclasses.is_dataclass(t)}


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ParamsError(f"{where or 'top level'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ParamsError(f"{where or 'top level'}: unknown parameter(s) {unknown}")
    values = {}
    for name, value in raw.items():
        key = f"{where}.{name}" if where else name
        values[name] = _coerce(hints[name], value, key)
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value or {}, key)
    origin = typing.get_origin(hint)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{key}: expected a mapping")
        return value
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParamsError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParamsError(f"{key} must be one of {list(allowed)}, got {value!r}")


def _positive(key: str, value: float) -> None:
    if value <= 0:
        raise ParamsError(f"{key} must be positive, got {value}")


def _at_least(key: str, value: float, low: float) -> None:
    if value < low:
        raise ParamsError(f"{key} must be at least {low}, got {value}")


def _fraction(key: str, value: float, open_zero: bool = False, closed_one: bool = True) -> None:
    low_ok = value > 0 if open_zero else value >= 0
    high_ok = value <= 1 if closed_one else value < 1
    if not (low_ok and high_ok):
        raise ParamsError(f"{key} must be a fraction in {'(' if open_zero else '['}0, 1{']' if closed_one else ')'}, got {value}")
