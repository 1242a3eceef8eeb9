"""BS-VAE: a Gaussian sentence VAE (Bowman et al. 2016) whose KL weight beta follows a schedule.

Encoder (model.encoder): a bidirectional LSTM over the sentence, or a Transformer encoder whose
outputs are mean-pooled -> q(z|x) = N(mu, diag(sigma^2)).
Decoder (model.decoder): an LSTM language model whose initial state comes from z and which sees z
at every step, so the latent cannot be ignored merely because the state forgot it; or a causal
Transformer to whose every input embedding a projection of z is added.
Conditional (num_labels > 0): the label's vector joins every token embedding of encoder and decoder,
so q(z|x, y) and p(x|z, y); the prior is N(0, I) or, with label_prior "learned", N(mu_y, diag sigma_y^2)
per label (a label-conditioned prior; benchmarks/README.md compares the two).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn

from components.core.schema import Positive, Section
from components.data.batches import PAD_ID
from components.kinds.text.models.base import (
    Family,
    ModelOutput,
    TextModel,
    check_attention,
    drop_words,
    label_vectors,
    with_bos_eos,
)
from components.kinds.text.models.decoding import decode_loop
from components.models.blocks import check_length, transformer_blocks


@dataclass(frozen=True)
class BSVAEConfig:
    """Sizes and switches, read from params.yaml's model section (models/factory.py); no defaults here."""

    vocab_size: int
    embed_dim: int
    hidden_dim: int
    latent_dim: int
    word_dropout: float
    encoder: str
    """lstm or transformer."""
    decoder: str
    """lstm or transformer."""
    layers: int
    """Transformer blocks (encoder and decoder each), when either is a Transformer."""
    heads: int
    dropout: float
    """Transformer dropout."""
    max_positions: int
    num_labels: int
    """0: unconditional; else the size of the label vocabulary (tokenize stage)."""
    label_prior: str
    """standard or learned (conditional only)."""
    conditioning: str
    """tokens (the label's vector joins every token embedding) or latent (the networks never see the label; p(z|y)
    is fitted after training to the labelled rows' posteriors)."""

    def to_dict(self) -> dict:
        return {"family": "bsvae", **asdict(self)}


class BSVAE(TextModel):
    family = "bsvae"
    latent_kind = "gaussian"

    def __init__(self, config: BSVAEConfig):
        super().__init__()
        self.config = c = config
        for part in ("encoder", "decoder"):
            if getattr(c, part) not in ("lstm", "transformer"):
                raise ValueError(f"{part} must be lstm or transformer, got {getattr(c, part)!r}")
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        if c.label_prior not in ("standard", "learned"):
            raise ValueError(f"label_prior must be standard or learned, got {c.label_prior!r}")
        if c.conditioning not in ("tokens", "latent"):
            raise ValueError(f"conditioning must be tokens or latent, got {c.conditioning!r}")
        self.latent_conditioning = bool(c.num_labels) and c.conditioning == "latent"
        self.init_labels(0 if self.latent_conditioning else c.embed_dim)
        self.learned_prior = bool(c.num_labels) and c.label_prior == "learned" and not self.latent_conditioning
        if self.latent_conditioning:  # p(z|y) = N(mu_y, diag exp(logvar_y)): N(0, I) until fit_label_prior
            self.register_buffer("fitted_mu", torch.zeros(c.num_labels, c.latent_dim))
            self.register_buffer("fitted_logvar", torch.zeros(c.num_labels, c.latent_dim))
        if self.learned_prior:  # starts as N(0, I) for every label
            self.prior_mu = nn.Embedding(c.num_labels, c.latent_dim)
            self.prior_logvar = nn.Embedding(c.num_labels, c.latent_dim)
            nn.init.zeros_(self.prior_mu.weight)
            nn.init.zeros_(self.prior_logvar.weight)
        if c.encoder == "lstm":
            self.encoder = nn.LSTM(c.embed_dim, c.hidden_dim, batch_first=True, bidirectional=True)
            self.to_posterior = nn.Linear(2 * c.hidden_dim, 2 * c.latent_dim)
        else:
            self.enc_positions = nn.Embedding(c.max_positions, c.embed_dim)
            self.encoder = transformer_blocks(c.embed_dim, c.heads, c.hidden_dim, c.layers, c.dropout)
            self.to_posterior = nn.Linear(c.embed_dim, 2 * c.latent_dim)
        if c.decoder == "lstm":
            self.z_to_state = nn.Linear(c.latent_dim, 2 * c.hidden_dim)
            self.decoder = nn.LSTM(c.embed_dim + c.latent_dim, c.hidden_dim, batch_first=True)
            self.out = nn.Linear(c.hidden_dim, c.vocab_size)
        else:
            self.z_to_input = nn.Linear(c.latent_dim, c.embed_dim)
            self.dec_positions = nn.Embedding(c.max_positions, c.embed_dim)
            self.decoder = transformer_blocks(c.embed_dim, c.heads, c.hidden_dim, c.layers, c.dropout)
            self.dec_norm = nn.LayerNorm(c.embed_dim)
            self.out = nn.Linear(c.embed_dim, c.vocab_size)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def decoder_modules(self) -> list[nn.Module]:
        """The generative network, which autoencoder pretraining resets: the encoder keeps what it learned while
        a fresh decoder must learn to use z (Li et al., 2019), which keeps the posterior from collapsing. The
        embedding is shared with the encoder and stays."""
        if self.config.decoder == "lstm":
            return [self.z_to_state, self.decoder, self.out]
        return [self.z_to_input, self.dec_positions, self.decoder, self.dec_norm, self.out]

    # --- inference network -------------------------------------------------
    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters (mu, logvar), each (B, D)."""
        if self.config.encoder == "lstm":
            packed = nn.utils.rnn.pack_padded_sequence(
                self.embed_tokens(tokens, labels), lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
            )
            _, (h, _) = self.encoder(packed)
            summary = torch.cat([h[0], h[1]], dim=-1)
        else:
            check_length(tokens.shape[1], self.config.max_positions)
            padding = torch.arange(tokens.shape[1], device=tokens.device) >= lengths.clamp(min=1).unsqueeze(1)
            positions = torch.arange(tokens.shape[1], device=tokens.device)
            hidden = self.encoder(
                self.embed_tokens(tokens, labels) + self.enc_positions(positions), src_key_padding_mask=padding
            )
            keep = (~padding).unsqueeze(-1).to(hidden.dtype)
            summary = (hidden * keep).sum(dim=1) / keep.sum(dim=1)
        mu, logvar = self.to_posterior(summary).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 10.0)

    # --- generative network ------------------------------------------------
    def initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = torch.tanh(self.z_to_state(z)).chunk(2, dim=-1)
        return h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None, labels=None):
        """Next-token logits for `inputs` given z; `state` is the LSTM state, or for the Transformer decoder
        the prefix decoded so far (recomputed each step: sentences are short)."""
        if self.config.decoder == "transformer":
            seq = inputs if state is None else torch.cat([state, inputs], dim=1)
            check_length(seq.shape[1], self.config.max_positions)
            positions = torch.arange(seq.shape[1], device=seq.device)
            causal = nn.Transformer.generate_square_subsequent_mask(seq.shape[1], device=seq.device)
            x = self.embed_tokens(seq, labels) + self.dec_positions(positions) + self.z_to_input(z).unsqueeze(1)
            hidden = self.decoder(x, mask=causal, is_causal=True)
            return self.out(self.dec_norm(hidden))[:, -inputs.shape[1] :], seq
        emb = self.embed_tokens(inputs, labels)
        emb = torch.cat([emb, z.unsqueeze(1).expand(-1, emb.shape[1], -1)], dim=-1)
        out, state = self.decoder(emb, state if state is not None else self.initial_state(z))
        return self.out(out), state

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True, labels=None) -> ModelOutput:
        """Reconstruction NLL from z ~ q(z|x) (or z = mu with sample=False) and the analytic KL to the prior (with
        latent conditioning, to N(0, I): the networks train as an unconditional VAE on every row)."""
        mu, logvar = self.encode(tokens, lengths, labels)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        inputs, targets = with_bos_eos(tokens, lengths)
        if self.training:
            inputs = drop_words(inputs, self.config.word_dropout)
        rec_nll = -self.log_likelihood(z, inputs, targets, labels)
        if self.learned_prior:
            prior_mu, prior_logvar = self.prior_params(mu, labels)
            kl = 0.5 * (prior_logvar - logvar + (logvar.exp() + (mu - prior_mu).pow(2)) / prior_logvar.exp() - 1.0)
        else:
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
        return ModelOutput(rec_nll=rec_nll, kl=kl, mu=mu, logvar=logvar)

    def prior_params(self, z: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.latent_conditioning:
            self.check_labels(labels, z.shape[0])
            known = (labels >= 0).unsqueeze(-1).to(z.dtype)  # a row without a label: the standard prior
            rows = labels.clamp(min=0)
            return self.fitted_mu[rows] * known, self.fitted_logvar[rows] * known
        if not self.learned_prior:
            return torch.zeros_like(z), torch.zeros_like(z)
        self.check_labels(labels, z.shape[0])
        # label_vectors: a row without a label gets the standard prior's zeros
        return label_vectors(self.prior_mu, labels), label_vectors(self.prior_logvar, labels).clamp(-10.0, 10.0)

    @torch.no_grad()
    def after_training(self, data, batch_size: int, max_len: int, device: torch.device) -> dict[str, float]:
        """Latent conditioning: fit p(z|y) to the training rows' posteriors (fit_label_prior), the labelled rows
        as anchors and the unlabelled ones assigned by EM; nothing to do otherwise."""
        if not self.latent_conditioning:
            return {}
        mus, logvars, labels = posteriors(self, data, batch_size, max_len, device)
        mu, logvar, figures = fit_label_prior(mus, logvars, labels, self.config.num_labels)
        self.fitted_mu.copy_(mu.to(self.fitted_mu.device))
        self.fitted_logvar.copy_(logvar.to(self.fitted_logvar.device))
        return figures

    @torch.no_grad()
    def sample_latent(self, n: int, generator: torch.Generator | None = None, labels=None) -> torch.Tensor:
        """z ~ p(z) = N(0, I), or p(z|y) given labels (a learned label prior, or the one fitted under latent
        conditioning)."""
        noise = torch.randn(n, self.config.latent_dim, generator=generator, device=self.out.weight.device)
        mu, logvar = self.prior_params(noise, labels)
        return mu + noise * (0.5 * logvar).exp()

    @torch.no_grad()
    def generate(
        self,
        z: torch.Tensor,
        max_len: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        generator: torch.Generator | None = None,
        greedy: bool = False,
        labels=None,
        prefix: list[int] | None = None,
    ) -> list[list[int]]:
        """Decode token ids for each row of z, stopping at <eos> or max_len (ids exclude bos/eos)."""
        state = self.initial_state(z) if self.config.decoder == "lstm" else None
        return decode_loop(self, z, max_len, temperature, top_p, generator, greedy, state, labels, prefix)


EM_ROUNDS = 10
"""EM rounds over the unlabelled rows' posterior means (a few suffice: the labelled anchors fix the components)."""


@torch.no_grad()
def posteriors(model: BSVAE, data, batch_size: int, max_len: int, device: torch.device):
    """(mu, logvar, label) of every row of `data` (TokenArrays; label -1 for a row without one, None for data
    without labels), in order: the fitted prior's input, and the features benchmarks/probe.py reads."""
    from components.data.batches import batch_labels, length_sorted_batches, pad_batch

    model.eval()
    mus, logvars, order = [], [], []
    for index in length_sorted_batches(data.lengths, batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        labels = batch_labels(data, index)
        mu, logvar = model.encode(tokens.to(device), lengths.to(device), None if labels is None else labels.to(device))
        mus.append(mu.float().cpu())
        logvars.append(logvar.float().cpu())
        order.append(torch.as_tensor(index))
    position = torch.cat(order).argsort()
    labels = None if data.labels is None else torch.as_tensor(data.labels, dtype=torch.long)
    return torch.cat(mus)[position], torch.cat(logvars)[position], labels


def fit_label_prior(
    mus: torch.Tensor, logvars: torch.Tensor, labels: torch.Tensor, num_labels: int, rounds: int = EM_ROUNDS
) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
    """p(z|y) = N(m_y, diag v_y) for each label: the moments of the aggregate posterior of the rows with label y,
    m_y = mean(mu_i), v_y = mean(var_i + mu_i^2) - m_y^2 (so sampling from it matches where the encoder puts that
    label's sentences). Rows without a label (-1) take part through EM: each is given to the labels in proportion
    to how likely its posterior mean is under each fitted Gaussian (and the label's share of the labelled rows),
    the labelled rows staying where their label puts them. A label with no labelled row keeps N(0, I)."""
    var = logvars.exp()
    dim = mus.shape[1]
    labelled = labels >= 0
    anchor = torch.zeros(len(labels), num_labels, dtype=torch.float64)
    anchor[labelled.nonzero().squeeze(1), labels[labelled]] = 1.0
    present = anchor.sum(0) > 0
    weights = anchor.clone()
    m, v = moments(mus, var, weights, present, dim)
    unlabelled = ~labelled
    if unlabelled.any() and present.any():
        prior = (anchor.sum(0) / anchor.sum()).clamp(min=1e-12).log()
        x = mus[unlabelled].double()
        for _ in range(rounds):
            log_p = -0.5 * (((x[:, None, :] - m[None]) ** 2) / v[None] + v.log()[None]).sum(-1) + prior
            log_p[:, ~present] = -torch.inf
            weights[unlabelled] = torch.softmax(log_p, dim=1)
            m, v = moments(mus, var, weights, present, dim)
    labelled_share = float(labelled.float().mean())
    return m.float(), v.log().float(), {"label_prior_rows": float(len(labels)), "labelled_share": labelled_share}


def moments(mus, var, weights, present, dim):
    """Each label's weighted aggregate-posterior mean and variance (N(0, I) for a label without rows)."""
    total = weights.sum(0).clamp(min=1e-12)[:, None]
    m = weights.T @ mus.double() / total
    second = weights.T @ (var.double() + mus.double() ** 2) / total
    v = (second - m**2).clamp(min=1e-4)
    m[~present], v[~present] = 0.0, 1.0
    return m, v


@dataclass(frozen=True)
class BSVAEParams(Section):
    """The BS-VAE's own knobs (model.bsvae)."""

    latent_dim: Positive
    """Gaussian latent dimensions."""
    encoder: Literal["lstm", "transformer"]
    """A bidirectional LSTM or a Transformer encoder."""
    decoder: Literal["lstm", "transformer"]
    """An LSTM or a causal Transformer decoder."""
    label_prior: Literal["standard", "learned"]
    """With model.conditional and tokens conditioning: standard (p(z) = N(0, I)) or learned (p(z|y) = N(mu_y, diag
    sigma_y^2), trained with the rest)."""
    conditioning: Literal["tokens", "latent"]
    """With model.conditional: tokens (a label vector joins every token embedding of encoder and decoder) or latent
    (the networks never see the label and train as a VAE on every row, labelled or not; after training p(z|y) is
    fitted to the posteriors of the labelled rows, unlabelled ones joining by EM, and samples given a label decode
    z drawn from it)."""


def describe(m, own: BSVAEParams, train) -> str:
    names = {"lstm": "LSTM", "transformer": "Transformer"}
    return (
        f"A BS-VAE sentence model ({names[own.encoder]} encoder, {names[own.decoder]} decoder, "
        f"{own.latent_dim}-d Gaussian latent, beta schedule `{train.beta_schedule}`, free bits {train.free_bits}). "
        "Generates sentences by sampling z from N(0, I) and decoding."
    )


def check(m, own: BSVAEParams, train) -> None:
    if "transformer" in (own.encoder, own.decoder):
        check_attention(m, train, positional=True)


FAMILY = Family(name="bsvae", model=BSVAE, config=BSVAEConfig, params=BSVAEParams, describe=describe, check=check)
