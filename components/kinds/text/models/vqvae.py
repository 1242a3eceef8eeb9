"""VQVAE-LM: a sentence autoencoder with a short sequence of discrete codes, plus a prior over the codes.

Encoder: bidirectional LSTM over the sentence; `codes` learned queries attend over its outputs
and give `codes` vectors, each snapped to the nearest entry of an EMA codebook (codebook.py), or,
with `codebook_levels` > 1, to a sum of entries of residual codebooks.
Decoder: an LSTM language model that starts from a state computed from the quantised vectors and,
at every step, attends over them (Luong et al. 2015): each word can read the code that holds it,
which is what lets a few discrete codes reconstruct a whole sentence.
Prior: a small causal Transformer over the code indices, trained on the (detached) codes the
encoder assigns, so generation is: sample codes from the prior, look them up, decode.

Its likelihood bound: the encoder is deterministic, so q(c|x) puts all its mass on c(x) and the
ELBO is log p(x|c(x)) + log p(c(x)); the negative of that is the NLL this model reports, and
-log p(c(x)) plays the part of the KL (the bits the codes cost under the prior).

Conditional (num_labels > 0): the label's vector joins every token embedding of encoder and decoder,
and the code prior starts each sequence from the label's own start symbol, p(c|y): generating for a
label samples its codes from p(c|y), then decodes them with p(x|c, y).

It speaks the latent models' interface: `encode` gives the continuous encoder outputs (flattened)
as the "posterior mean", `generate(z)` quantises z before decoding (so interpolating between two
encodings walks through codebook entries), `sample_latent` draws from the prior.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal

import torch
import torch.nn.functional as F
from torch import nn

from components.core.errors import StageError
from components.core.schema import Count, NonNegative, Positive, Range, Rate, Section
from components.data.batches import PAD_ID
from components.kinds.text.models.base import (
    Family,
    ModelOutput,
    TextModel,
    check_attention,
    drop_words,
    with_bos_eos,
)
from components.kinds.text.models.decoding import decode_loop, sample_top_p
from components.models.blocks import transformer_blocks
from components.models.codebook import ResidualCodebook


@dataclass(frozen=True)
class VQVAEConfig:
    """Sizes and switches, read from params.yaml's model section (models/factory.py); no defaults here."""

    vocab_size: int
    embed_dim: int
    hidden_dim: int
    codes: int
    """Code positions per sentence."""
    codebook_size: int
    code_dim: int
    codebook_levels: int
    """Residual quantisation depth: each code position is the sum of this many codes, one per level."""
    commitment: float
    """Weight of the commitment loss that keeps encoder outputs near their codes."""
    ema_decay: float
    dead_code_threshold: float
    """Restart a code whose running count is below this share of a uniformly used code's."""
    codebook_init: str
    """kmeans (over the first batch's encoder outputs) or data (random encoder outputs)."""
    codebook_metric: str
    """euclidean, or cosine (inputs and codes l2-normalised)."""
    codebook_warmup: int
    """Training batches that bypass the quantiser (a continuous autoencoder) before the codebook starts."""
    word_dropout: float
    layers: int
    """Transformer blocks of the prior over the codes."""
    heads: int
    dropout: float
    """The prior's dropout."""
    num_labels: int
    """0: unconditional; else the size of the label vocabulary."""

    @property
    def code_sequence_length(self) -> int:
        """Code indices per sentence as the prior sees them: each position's levels in turn."""
        return self.codes * self.codebook_levels

    def to_dict(self) -> dict:
        return {"family": "vqvae", **asdict(self)}


class CodePrior(nn.Module):
    """p(c) = prod_k p(c_k | c_<k): a causal Transformer over code indices. Index `size` is <bos>; a conditional
    prior, p(c|y), starts from label y's own start symbol, index size + 1 + y, instead."""

    def __init__(self, size: int, positions: int, width: int, layers: int, heads: int, dropout: float, num_labels: int):
        super().__init__()
        self.size = size
        self.embed = nn.Embedding(size + 1 + num_labels, width)
        self.positions = nn.Embedding(positions, width)
        self.blocks = transformer_blocks(width, heads, 4 * width, layers, dropout)
        self.norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, size)

    def logits(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of each next code given the start symbol and `codes` (B, n): shape (B, n + 1, size)."""
        if labels is None:
            bos = torch.full((codes.shape[0], 1), self.size, dtype=torch.long, device=codes.device)
        else:
            bos = (self.size + 1 + labels).unsqueeze(1)
        seq = torch.cat([bos, codes], dim=1)
        causal = nn.Transformer.generate_square_subsequent_mask(seq.shape[1], device=seq.device)
        hidden = self.blocks(
            self.embed(seq) + self.positions(torch.arange(seq.shape[1], device=seq.device)), mask=causal, is_causal=True
        )
        return self.out(self.norm(hidden))

    def position_nll(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-log p(c_k | c_<k) for each position (nats), shape (B, n)."""
        logits = self.logits(codes[:, :-1], labels)
        return F.cross_entropy(logits.transpose(1, 2).float(), codes, reduction="none")

    def nll(self, codes: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """-log p(codes) per sequence (nats), shape (B,)."""
        return self.position_nll(codes, labels).sum(dim=1)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        length: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        generator: torch.Generator | None = None,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        device = self.out.weight.device
        codes = torch.empty((n, 0), dtype=torch.long, device=device)
        for _ in range(length):
            logits = self.logits(codes, labels)[:, -1] / max(temperature, 1e-6)
            codes = torch.cat([codes, sample_top_p(logits, top_p, generator).unsqueeze(1)], dim=1)
        return codes


class VQVAE(TextModel):
    family = "vqvae"
    latent_kind = "discrete"

    def __init__(self, config: VQVAEConfig):
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        self.init_labels(c.embed_dim)
        self.encoder = nn.LSTM(c.embed_dim, c.hidden_dim, batch_first=True, bidirectional=True)
        self.queries = nn.Parameter(torch.randn(c.codes, 2 * c.hidden_dim) / (2 * c.hidden_dim) ** 0.5)
        self.to_code = nn.Linear(2 * c.hidden_dim, c.code_dim)
        self.codebook = ResidualCodebook(
            c.codebook_levels,
            c.codebook_size,
            c.code_dim,
            c.ema_decay,
            c.dead_code_threshold,
            c.codebook_init,
            c.codebook_metric,
            c.codebook_warmup,
        )
        self.code_keys = nn.Linear(c.code_dim, c.hidden_dim)
        self.cond_to_state = nn.Linear(c.hidden_dim, 2 * c.hidden_dim)
        self.decoder = nn.LSTM(c.embed_dim, c.hidden_dim, batch_first=True)
        self.combine = nn.Linear(2 * c.hidden_dim, c.hidden_dim)
        self.out = nn.Linear(c.hidden_dim, c.vocab_size)
        self.prior = CodePrior(
            c.codebook_size, c.code_sequence_length, c.embed_dim, c.layers, c.heads, c.dropout, c.num_labels
        )

    def check_budget(self, steps: int, grad_accum: int) -> None:
        if self.config.codebook_warmup >= steps * grad_accum:
            raise StageError(
                f"model.vqvae.codebook_warmup is {self.config.codebook_warmup} batches but this run trains only "
                f"{steps} steps x {grad_accum} micro-batches: the codebook would never start"
            )

    @property
    def latent_dim(self) -> int:
        """Width of the flattened quantised vectors, the model's continuous `z`."""
        return self.config.codes * self.config.code_dim

    # --- encoder -----------------------------------------------------------
    def encode_vectors(self, tokens: torch.Tensor, lengths: torch.Tensor, labels=None) -> torch.Tensor:
        """Continuous encoder outputs before quantisation, shape (B, codes, code_dim)."""
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed_tokens(tokens, labels), lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        states, _ = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=tokens.shape[1])
        scores = torch.einsum("btd,kd->bkt", states, self.queries)
        mask = torch.arange(tokens.shape[1], device=tokens.device).unsqueeze(0) >= lengths.clamp(min=1).unsqueeze(1)
        scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        pooled = torch.einsum("bkt,btd->bkd", scores.softmax(dim=-1), states)
        return self.to_code(pooled)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(flattened encoder outputs, zeros): the interface's posterior mean and log-variance."""
        z = self.encode_vectors(tokens, lengths, labels).flatten(1)
        return z, torch.zeros_like(z)

    def quantise(self, z: torch.Tensor) -> torch.Tensor:
        """Snap flattened vectors (B, codes * code_dim) to their nearest codes; return the code indices in the
        prior's order, (B, code_sequence_length)."""
        flat = z.reshape(-1, self.config.code_dim).float()
        return self.codebook.nearest(flat).view(z.shape[0], self.config.code_sequence_length)

    def codes_to_z(self, codes: torch.Tensor) -> torch.Tensor:
        """Flattened vectors (B, codes * code_dim) of code indices in the prior's order."""
        per_position = codes.view(codes.shape[0], self.config.codes, self.config.codebook_levels)
        return self.codebook.lookup(per_position).flatten(1)

    # --- decoder -----------------------------------------------------------
    def code_memory(self, z: torch.Tensor) -> torch.Tensor:
        """What the decoder attends over: one vector per code, shape (B, codes, hidden_dim)."""
        return self.code_keys(z.view(z.shape[0], self.config.codes, self.config.code_dim))

    def initial_state(self, memory: torch.Tensor):
        h, c = torch.tanh(self.cond_to_state(memory.mean(dim=1))).chunk(2, dim=-1)
        return h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None, labels=None):
        """Logits of the next tokens given quantised vectors z (B, codes * code_dim) and decoder inputs."""
        memory = self.code_memory(z)
        hidden, state = self.decoder(
            self.embed_tokens(inputs, labels), state if state is not None else self.initial_state(memory)
        )
        weights = torch.einsum("bth,bkh->btk", hidden, memory).softmax(dim=-1)
        context = torch.einsum("btk,bkh->bth", weights, memory)
        return self.out(torch.tanh(self.combine(torch.cat([hidden, context], dim=-1)))), state

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True, labels=None) -> ModelOutput:
        """Reconstruction NLL from the quantised codes, prior NLL of the codes (as `kl`) and the commitment loss.

        The prior sees the codes detached: its loss trains the prior only, never the encoder. While the
        codebook warms up (model.codebook_warmup) the decoder reads the continuous vectors and the prior rests.
        """
        z_e = self.encode_vectors(tokens, lengths, labels)
        q = self.codebook(z_e)
        inputs, targets = with_bos_eos(tokens, lengths)
        if self.training:
            inputs = drop_words(inputs, self.config.word_dropout)
        rec_nll = -self.log_likelihood(q.quantized.flatten(1), inputs, targets, labels)
        codes = q.codes.flatten(1)  # (B, codes, levels) -> the prior's order
        prior_nll = self.prior.nll(codes.detach(), labels)
        if q.bypassed:  # no codes yet, nothing for the prior to learn; kept in the graph (DDP wants every
            prior_nll = prior_nll * 0.0  # parameter to get a gradient, even a zero one, at every step)
        return ModelOutput(
            rec_nll=rec_nll,
            kl=prior_nll.unsqueeze(1),
            mu=z_e.flatten(1),
            logvar=torch.zeros_like(rec_nll).unsqueeze(1),
            aux_loss=self.config.commitment * q.commitment.sum(dim=1).mean(),
            codes=codes,
            kl_is_scheduled=False,
        )

    # --- generation --------------------------------------------------------
    @torch.no_grad()
    def sample_latent(
        self,
        n: int,
        generator: torch.Generator | None = None,
        labels=None,
        temperature: float = 1.0,
        top_p: float = 1.0,
    ) -> torch.Tensor:
        """z for n sentences: codes drawn from the prior (p(c|y) when conditional), looked up in the codebook."""
        self.check_labels(labels, n)
        return self.codes_to_z(
            self.prior.sample(n, self.config.code_sequence_length, temperature, top_p, generator, labels)
        )

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
        z = self.codes_to_z(self.quantise(z))
        return decode_loop(
            self,
            z,
            max_len,
            temperature,
            top_p,
            generator,
            greedy,
            self.initial_state(self.code_memory(z)),
            labels,
            prefix,
        )


@dataclass(frozen=True)
class VQVAEParams(Section):
    """The VQVAE-LM's own knobs (model.vqvae)."""

    codes: Positive
    """Discrete codes per sentence."""
    codebook_size: Annotated[int, Range(ge=2)]
    """Codes in each codebook."""
    code_dim: Positive
    """Width of each code vector."""
    codebook_levels: Positive
    """Residual quantisation depth, codebooks per code position (each quantises what the ones before it missed); the
    prior then models codes x levels indices per sentence."""
    commitment: NonNegative
    """Weight of the commitment loss."""
    ema_decay: Rate
    """Decay of the codebook's moving averages."""
    dead_code_threshold: NonNegative
    """Restart a code used less than this share of a uniformly used code (0: never)."""
    codebook_init: Literal["kmeans", "data"]
    """kmeans (over the first batch's encoder outputs) or data (random encoder outputs)."""
    codebook_metric: Literal["euclidean", "cosine"]
    """euclidean, or cosine (encoder outputs and codes l2-normalised: more even code use)."""
    codebook_warmup: Count
    """Training (micro-)batches with the quantiser bypassed (a continuous autoencoder) before the codebook is
    initialised from the then-trained encoder's outputs; 0: quantise from the first batch."""


def describe(m, own: VQVAEParams, train) -> str:
    books = (
        f"a {own.codebook_size}-entry EMA codebook"
        if own.codebook_levels == 1
        else f"the sum of {own.codebook_levels} residual {own.codebook_size}-entry EMA codebooks"
    )
    return (
        f"A VQ-VAE sentence model: {own.codes} discrete codes per sentence, each from {books} "
        f"(LSTM encoder and decoder), with a {m.layers}-block Transformer prior over the codes. "
        "Generates sentences by sampling codes from the prior and decoding them; its NLL is the bound "
        "-log p(x|codes) - log p(codes)."
    )


FAMILY = Family(
    name="vqvae",
    model=VQVAE,
    config=VQVAEConfig,
    params=VQVAEParams,
    describe=describe,
    check=lambda m, own, train: check_attention(m, train, positional=False),  # its prior: attention, no positions
)
