"""BS-VAE: a Gaussian sentence VAE (Bowman et al. 2016) whose KL weight beta follows a schedule.

Encoder (model.encoder): a bidirectional LSTM over the sentence, or a Transformer encoder whose
outputs are mean-pooled -> q(z|x) = N(mu, diag(sigma^2)).
Decoder (model.decoder): an LSTM language model whose initial state comes from z and which sees z
at every step, so the latent cannot be ignored merely because the state forgot it; or a causal
Transformer to whose every input embedding a projection of z is added.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from components.batches import BOS_ID, EOS_ID, PAD_ID, UNK_ID


@dataclass(frozen=True)
class BSVAEConfig:
    vocab_size: int
    embed_dim: int = 128
    hidden_dim: int = 256
    latent_dim: int = 32
    word_dropout: float = 0.3
    encoder: str = "lstm"
    """lstm or transformer."""
    decoder: str = "lstm"
    """lstm or transformer."""
    layers: int = 2
    """Transformer blocks (encoder and decoder each), when either is a Transformer."""
    heads: int = 4
    dropout: float = 0.1
    """Transformer dropout."""
    max_positions: int = 256

    def to_dict(self) -> dict:
        return {"family": "bsvae", **asdict(self)}


@dataclass
class VAEOutput:
    rec_nll: torch.Tensor
    """-log p(x|z) per sentence (nats, end token included), shape (B,)."""
    kl: torch.Tensor
    """KL(q(z|x) || p(z)) per sentence and latent dimension, shape (B, D)."""
    mu: torch.Tensor
    logvar: torch.Tensor
    aux_loss: torch.Tensor | None = None
    """A loss term outside the ELBO that training adds as is (the VQ-VAE's commitment loss)."""
    codes: torch.Tensor | None = None
    """Discrete code indices (VQ-VAE) in its prior's order, shape (B, codes x codebook levels)."""
    kl_is_scheduled: bool = True
    """Whether beta and free bits apply to `kl`: true for the Gaussian KL; the VQ-VAE's `kl` is its prior's
    NLL, which trains only the prior and is always added in full."""


def sentence_log_likelihood(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum of target-token log-probabilities per sentence (padding ignored), shape (B,)."""
    nll = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=PAD_ID, reduction="none")
    return -nll.sum(dim=1)


def with_bos_eos(tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder input (<bos> x) and target (x <eos>), both (B, T+1) and PAD-filled after the end."""
    batch = tokens.shape[0]
    bos = torch.full((batch, 1), BOS_ID, dtype=tokens.dtype, device=tokens.device)
    pad = torch.full((batch, 1), PAD_ID, dtype=tokens.dtype, device=tokens.device)
    inputs = torch.cat([bos, tokens], dim=1)
    targets = torch.cat([tokens, pad], dim=1)
    targets.scatter_(1, lengths.unsqueeze(1), EOS_ID)
    return inputs, targets


def drop_words(inputs: torch.Tensor, rate: float) -> torch.Tensor:
    """Word dropout (Bowman et al. 2016): decoder inputs become <unk> with probability `rate` (never <bos> or
    padding), so the decoder has to take what it cannot read from its history from the latent."""
    if rate <= 0:
        return inputs
    drop = torch.rand(inputs.shape, device=inputs.device) < rate
    drop[:, 0] = False
    return inputs.masked_fill(drop & (inputs != PAD_ID), UNK_ID)


class BSVAE(nn.Module):
    def __init__(self, config: BSVAEConfig):
        super().__init__()
        self.config = c = config
        for part in ("encoder", "decoder"):
            if getattr(c, part) not in ("lstm", "transformer"):
                raise ValueError(f"{part} must be lstm or transformer, got {getattr(c, part)!r}")
        if "transformer" in (c.encoder, c.decoder) and c.embed_dim % c.heads:
            raise ValueError(f"embed_dim {c.embed_dim} is not divisible by heads {c.heads}")
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=PAD_ID)
        if c.encoder == "lstm":
            self.encoder = nn.LSTM(c.embed_dim, c.hidden_dim, batch_first=True, bidirectional=True)
            self.to_posterior = nn.Linear(2 * c.hidden_dim, 2 * c.latent_dim)
        else:
            self.enc_positions = nn.Embedding(c.max_positions, c.embed_dim)
            self.encoder = transformer_stack(c)
            self.to_posterior = nn.Linear(c.embed_dim, 2 * c.latent_dim)
        if c.decoder == "lstm":
            self.z_to_state = nn.Linear(c.latent_dim, 2 * c.hidden_dim)
            self.decoder = nn.LSTM(c.embed_dim + c.latent_dim, c.hidden_dim, batch_first=True)
            self.out = nn.Linear(c.hidden_dim, c.vocab_size)
        else:
            self.z_to_input = nn.Linear(c.latent_dim, c.embed_dim)
            self.dec_positions = nn.Embedding(c.max_positions, c.embed_dim)
            self.decoder = transformer_stack(c)
            self.dec_norm = nn.LayerNorm(c.embed_dim)
            self.out = nn.Linear(c.embed_dim, c.vocab_size)

    def decoder_modules(self) -> list[nn.Module]:
        """The generative network (the embedding is shared with the encoder and stays)."""
        if self.config.decoder == "lstm":
            return [self.z_to_state, self.decoder, self.out]
        return [self.z_to_input, self.dec_positions, self.decoder, self.dec_norm, self.out]

    def reset_decoder(self) -> None:
        """Re-initialise the decoder: after autoencoder pretraining, the encoder keeps what it learned while
        a fresh decoder must learn to use z (Li et al., 2019), which keeps the posterior from collapsing."""
        for module in self.decoder_modules():
            module.reset_parameters()

    # --- inference network -------------------------------------------------
    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters (mu, logvar), each (B, D)."""
        if self.config.encoder == "lstm":
            packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths.clamp(min=1).cpu(),
                                                       batch_first=True, enforce_sorted=False)
            _, (h, _) = self.encoder(packed)
            summary = torch.cat([h[0], h[1]], dim=-1)
        else:
            check_length(tokens.shape[1], self.config.max_positions)
            padding = torch.arange(tokens.shape[1], device=tokens.device) >= lengths.clamp(min=1).unsqueeze(1)
            positions = torch.arange(tokens.shape[1], device=tokens.device)
            hidden = self.encoder(self.embed(tokens) + self.enc_positions(positions), src_key_padding_mask=padding)
            keep = (~padding).unsqueeze(-1).to(hidden.dtype)
            summary = (hidden * keep).sum(dim=1) / keep.sum(dim=1)
        mu, logvar = self.to_posterior(summary).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 10.0)

    # --- generative network ------------------------------------------------
    def initial_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = torch.tanh(self.z_to_state(z)).chunk(2, dim=-1)
        return h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None):
        """Next-token logits for `inputs` given z; `state` is the LSTM state, or for the Transformer decoder
        the prefix decoded so far (recomputed each step: sentences are short)."""
        if self.config.decoder == "transformer":
            seq = inputs if state is None else torch.cat([state, inputs], dim=1)
            check_length(seq.shape[1], self.config.max_positions)
            positions = torch.arange(seq.shape[1], device=seq.device)
            causal = nn.Transformer.generate_square_subsequent_mask(seq.shape[1], device=seq.device)
            x = self.embed(seq) + self.dec_positions(positions) + self.z_to_input(z).unsqueeze(1)
            hidden = self.decoder(x, mask=causal, is_causal=True)
            return self.out(self.dec_norm(hidden))[:, -inputs.shape[1]:], seq
        emb = self.embed(inputs)
        emb = torch.cat([emb, z.unsqueeze(1).expand(-1, emb.shape[1], -1)], dim=-1)
        out, state = self.decoder(emb, state if state is not None else self.initial_state(z))
        return self.out(out), state

    def log_likelihood(self, z: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """log p(x|z) per sentence, shape (B,)."""
        return sentence_log_likelihood(self.decode_logits(z, inputs)[0], targets)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True) -> VAEOutput:
        """Reconstruction NLL from z ~ q(z|x) (or z = mu with sample=False) and the analytic KL."""
        mu, logvar = self.encode(tokens, lengths)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        inputs, targets = with_bos_eos(tokens, lengths)
        if self.training:
            inputs = drop_words(inputs, self.config.word_dropout)
        rec_nll = -self.log_likelihood(z, inputs, targets)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
        return VAEOutput(rec_nll=rec_nll, kl=kl, mu=mu, logvar=logvar)

    @torch.no_grad()
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ p(z) = N(0, I) for n sentences."""
        return torch.randn(n, self.config.latent_dim, generator=generator, device=self.out.weight.device)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, max_len: int, temperature: float = 1.0, top_p: float = 1.0,
                 generator: torch.Generator | None = None, greedy: bool = False) -> list[list[int]]:
        """Decode token ids for each row of z, stopping at <eos> or max_len (ids exclude bos/eos)."""
        state = self.initial_state(z) if self.config.decoder == "lstm" else None
        return decode_loop(self, z, max_len, temperature, top_p, generator, greedy, state)


def transformer_stack(c: BSVAEConfig) -> nn.TransformerEncoder:
    """Pre-norm Transformer blocks, embed_dim wide with hidden_dim feed-forward (causal when given a mask)."""
    block = nn.TransformerEncoderLayer(c.embed_dim, c.heads, c.hidden_dim, c.dropout, batch_first=True,
                                       norm_first=True)
    return nn.TransformerEncoder(block, c.layers, enable_nested_tensor=False)


def check_length(length: int, max_positions: int) -> None:
    if length > max_positions:
        raise ValueError(f"sequence of {length} tokens exceeds max_positions {max_positions}")


@torch.no_grad()
def decode_loop(model: nn.Module, z: torch.Tensor, max_len: int, temperature: float, top_p: float,
                generator: torch.Generator | None, greedy: bool, state) -> list[list[int]]:
    """Autoregressive decoding shared by every family: `model.decode_logits(z, token, state)` one step at a time."""
    batch = z.shape[0]
    token = torch.full((batch, 1), BOS_ID, dtype=torch.long, device=z.device)
    done = torch.zeros(batch, dtype=torch.bool, device=z.device)
    out: list[torch.Tensor] = []
    for _ in range(max_len + 1):
        logits, state = model.decode_logits(z, token, state)
        logits = logits[:, -1]
        logits[:, PAD_ID] = -math.inf
        logits[:, BOS_ID] = -math.inf
        if greedy:
            nxt = logits.argmax(dim=-1)
        else:
            nxt = sample_top_p(logits / max(temperature, 1e-6), top_p, generator)
        nxt = nxt.masked_fill(done, PAD_ID)
        out.append(nxt)
        done |= nxt == EOS_ID
        if bool(done.all()):
            break
        token = nxt.unsqueeze(1)
    rows = torch.stack(out, dim=1).tolist()
    return [(row[: row.index(EOS_ID)] if EOS_ID in row else row)[:max_len] for row in rows]


def sample_top_p(logits: torch.Tensor, top_p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Nucleus sampling: draw from the smallest set of tokens whose probability reaches top_p."""
    probs = torch.softmax(logits.float(), dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        keep = sorted_probs.cumsum(dim=-1) - sorted_probs < top_p
        sorted_probs = sorted_probs * keep
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)
