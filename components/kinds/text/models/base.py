"""The one contract every model family implements, and the sequence helpers they all use.

A family is a `TextModel`: one training loop, one evaluation, one gate and one served model
drive every family through these methods alone, so a new family plugs in by implementing
them and registering a `Family` (its name, model and config classes, its own params section and the lines of
its model card) in `families.py`; no family imports another.

What a family provides:
- training: `forward(tokens, lengths)` -> `ModelOutput`, the per-sentence loss terms;
- scoring: `encode` (the posterior's mean and log-variance; empty for a model without a latent)
  and `log_likelihood(z, inputs, targets)`, from which evaluation builds the NLL;
- sampling: `sample_latent(n)` from the prior, then `generate(z, ...)` token ids;
- `latent_kind`: "gaussian", "discrete" or "none", which says how its NLL is obtained
  (importance-weighted, the code bound, or exact);
- optionally `decoder_modules()`: the generative network that autoencoder pretraining resets
  (empty: the family has no such phase).

Conditioning: a family built with `num_labels` > 0 (its config's field, from the label vocabulary)
takes `labels`, a (B,) tensor of label ids, in every method above, and refuses to run without it;
one built with 0 refuses labels. Every family conditions the same way, through `embed_tokens`: a
learned label vector joins each token embedding its networks read (a family may condition its
prior as well: the BS-VAE's p(z|y), the VQ-VAE's code prior). `prior_params` gives the prior the
importance-weighted NLL scores against. `generate` also takes a `prefix` of token ids to continue.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from components.core.schema import ParamsError
from components.data.batches import BOS_ID, EOS_ID, PAD_ID, UNK_ID, with_bos_eos  # noqa: F401 (re-exported)

Labels = torch.Tensor | None
"""(B,) label ids for a conditional model; None for an unconditional one."""


@dataclass
class ModelOutput:
    """What one forward pass gives the training loop: the loss terms per sentence."""

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


class TextModel(nn.Module, ABC):
    """A generative model of token sequences (see the module docstring for the contract)."""

    family: ClassVar[str]
    """The name params.yaml's model.family uses for it."""
    latent_kind: ClassVar[str]
    """gaussian, discrete or none."""

    @property
    @abstractmethod
    def latent_dim(self) -> int:
        """Width of the latent `z` that encode returns and generate takes (0 without a latent)."""

    @property
    def num_labels(self) -> int:
        """Labels the model is conditioned on (0: unconditional)."""
        return self.config.num_labels

    @abstractmethod
    def forward(
        self, tokens: torch.Tensor, lengths: torch.Tensor, sample: bool = True, labels: Labels = None
    ) -> ModelOutput:
        """Loss terms for a padded batch (B, T) of sentences of the given lengths."""

    @abstractmethod
    def encode(
        self, tokens: torch.Tensor, lengths: torch.Tensor, labels: Labels = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (B, latent_dim)."""

    @abstractmethod
    def decode_logits(self, z: torch.Tensor, inputs: torch.Tensor, state=None, labels: Labels = None):
        """(next-token logits for `inputs` given z, the decoder state to continue from)."""

    def log_likelihood(
        self, z: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor, labels: Labels = None
    ) -> torch.Tensor:
        """log p(x|z) per sentence, shape (B,)."""
        return sentence_log_likelihood(self.decode_logits(z, inputs, None, labels)[0], targets)

    def prior_params(self, z: torch.Tensor, labels: Labels = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of the Gaussian prior p(z) (or p(z|y)) for each row of z: N(0, I) by default."""
        return torch.zeros_like(z), torch.zeros_like(z)

    @abstractmethod
    def sample_latent(self, n: int, generator: torch.Generator | None = None, labels: Labels = None) -> torch.Tensor:
        """z for n sentences drawn from the prior, (n, latent_dim)."""

    @abstractmethod
    def generate(
        self,
        z: torch.Tensor,
        max_len: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        generator: torch.Generator | None = None,
        greedy: bool = False,
        labels: Labels = None,
        prefix: list[int] | None = None,
    ) -> list[list[int]]:
        """Token ids for each row of z (without <bos>/<eos>), at most max_len each, starting with `prefix`."""

    # --- conditioning ----------------------------------------------------------
    def init_labels(self, width: int) -> None:
        """The label vectors `embed_tokens` adds (none for an unconditional model, or with `width` 0 one conditioned
        elsewhere: its weights stay as before)."""
        self.label_embed = nn.Embedding(self.num_labels, width) if self.num_labels and width else None

    def check_labels(self, labels: Labels, batch: int) -> None:
        if self.num_labels and labels is None:
            raise ValueError(f"this {self.family} model is conditional ({self.num_labels} labels): give labels")
        if not self.num_labels and labels is not None:
            raise ValueError(f"this {self.family} model is unconditional: it takes no labels")
        if labels is not None and labels.shape != (batch,):  # (their range is checked where they are read)
            raise ValueError(f"labels must be {batch} ids, got shape {tuple(labels.shape)}")

    def embed_tokens(self, tokens: torch.Tensor, labels: Labels) -> torch.Tensor:
        """Token embeddings (B, T, E), plus the label's vector at every position when conditional."""
        self.check_labels(labels, tokens.shape[0])
        emb = self.embed(tokens)
        if labels is None or self.label_embed is None:  # unconditional, or conditioned elsewhere (the prior)
            return emb
        return emb + label_vectors(self.label_embed, labels).unsqueeze(1)

    def decoder_modules(self) -> list[nn.Module]:
        """The modules autoencoder pretraining re-initialises before the VAE phase; none by default."""
        return []

    def after_training(self, data, batch_size: int, max_len: int, device: torch.device) -> dict[str, float]:
        """What the family fits once its weights are trained, from the train split (`data`: TokenArrays), before it
        is saved: the BS-VAE's label prior under latent conditioning. Figures about it; nothing by default."""
        return {}

    def check_budget(self, steps: int, grad_accum: int) -> None:
        """Refuse (StageError) a run too short for what the family does over its first batches (the VQ-VAE's
        codebook warm-up); any run will do by default."""

    def reset_decoder(self) -> None:
        for module in self.decoder_modules():
            module.reset_parameters()


def sentence_log_likelihood(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum of target-token log-probabilities per sentence (padding ignored), shape (B,)."""
    nll = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=PAD_ID, reduction="none")
    return -nll.sum(dim=1)


def drop_words(inputs: torch.Tensor, rate: float) -> torch.Tensor:
    """Word dropout (Bowman et al. 2016): decoder inputs become <unk> with probability `rate` (never <bos> or
    padding), so the decoder has to take what it cannot read from its history from the latent."""
    if rate <= 0:
        return inputs
    drop = torch.rand(inputs.shape, device=inputs.device) < rate
    drop[:, 0] = False
    return inputs.masked_fill(drop & (inputs != PAD_ID), UNK_ID)


def label_vectors(table: nn.Embedding, labels: torch.Tensor) -> torch.Tensor:
    """Each row's vector from `table`; zeros for a row without a label (a negative id: data.require_label false),
    which so trains the model's unconditional part."""
    known = labels >= 0
    return table(labels.clamp(min=0)) * known.unsqueeze(-1).to(table.weight.dtype)


def no_check(model_params: Any, own: Any, train: Any) -> None:
    """A family without rules across sections."""


@dataclass(frozen=True)
class Family:
    """A text model family, registered once (components/kinds/text/models/families.py): what the factory, the
    params check, the training loop and the model card ask of it."""

    name: str
    """model.family's value, the registered model's suffix and the name of its own params section."""
    model: type[TextModel]
    config: type
    """Its config dataclass: built from the model section's shared knobs and its own section's, by field name."""
    describe: Callable[[Any, Any, Any], str]
    """(model params, its own section or None, train params) -> the model card's first paragraph."""
    params: type | None = None
    """Its own knobs (model.<name> in params.yaml), a schema Section; None: it has none."""
    check: Callable[[Any, Any, Any], None] = no_check
    """(model params, its own section, train params): rules across sections (a Transformer's width a multiple of
    its heads, ...); a ParamsError names the key."""


def check_attention(model_params: Any, train: Any, positional: bool) -> None:
    """A Transformer's rules: embed_dim a multiple of model.heads and, when it has positions, room for the longest
    sentence (<bos> + train.max_len tokens, or the tokens + <eos>)."""
    m = model_params
    if m.embed_dim % m.heads:
        raise ParamsError(f"model.embed_dim {m.embed_dim} must be a multiple of model.heads {m.heads}")
    if positional and train.max_len + 1 > m.max_positions:
        raise ParamsError(
            f"model.max_positions ({m.max_positions}) must be at least train.max_len + 1 ({train.max_len + 1}) for "
            "a Transformer: raise model.max_positions"
        )
