"""The image VQ-VAE with an autoregressive prior over its code grid (van den Oord et al. 2017).

The encoder maps an image to an (H/4) x (W/4) grid of vectors, each replaced by its nearest code in the
project's EMA codebook (components/models/codebook.py, the VQVAE-LM's); the decoder gives a discretised
logistic per pixel. A causal Transformer prior learns the grid in raster order (starting from a class token
when conditional). Sampling draws a grid from the prior and decodes it. Its NLL is the bound
-log p(x | codes) - log p(codes), with the codes the encoder assigns.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from components.kinds.images.models.base import (
    ConvDecoder,
    ConvEncoder,
    ImageConfig,
    ImageModel,
    label_plane,
    logistic_log_prob,
    logistic_mean_image,
)
from components.models.blocks import transformer_blocks
from components.models.codebook import EMACodebook


class ImageVQVAE(ImageModel):
    family = "vqvae"
    has_likelihood = True

    def __init__(self, config: ImageConfig):
        super().__init__(config)
        c = config
        self.positions_n = (c.height // 4) * (c.width // 4)
        self.encoder = ConvEncoder(c.channels_in + (1 if c.num_classes else 0), c.channels, c.code_dim)
        self.codebook = EMACodebook(
            c.codebook_size, c.code_dim, decay=c.ema_decay, dead_code_threshold=c.dead_code_threshold, init="data"
        )
        self.decoder = ConvDecoder(c.code_dim, c.channels, 2 * c.channels_in, cond_dim=16 if c.num_classes else 0)
        # prior: codes 0..K-1, then one start token per class (one in all when unconditional)
        starts = max(c.num_classes, 1)
        self.code_embed = nn.Embedding(c.codebook_size + starts, c.code_dim)
        self.position = nn.Embedding(self.positions_n, c.code_dim)
        self.prior = transformer_blocks(c.code_dim, c.prior_heads, 4 * c.code_dim, c.prior_layers, 0.1)
        self.head = nn.Linear(c.code_dim, c.codebook_size)
        self.register_buffer(
            "causal", torch.triu(torch.full((self.positions_n, self.positions_n), float("-inf")), 1), persistent=False
        )

    def quantize(self, x, labels):
        h = self.encoder(label_plane(self.label_vector(labels, x.shape[0]), x))  # (B, D, h, w)
        q = self.codebook(h.permute(0, 2, 3, 1))
        return q, q.quantized.permute(0, 3, 1, 2)

    def prior_logits(self, codes, labels):
        """Next-code logits for every grid position, (B, N, K); codes (B, N) in raster order."""
        batch = codes.shape[0]
        start = self.config.codebook_size + (
            labels if labels is not None else torch.zeros(batch, dtype=torch.long, device=codes.device)
        )
        inputs = torch.cat([start[:, None], codes[:, :-1]], dim=1)
        n = inputs.shape[1]
        h = self.code_embed(inputs) + self.position(torch.arange(n, device=codes.device))
        return self.head(self.prior(h, mask=self.causal[:n, :n], is_causal=True))

    def terms(self, x, labels):
        q, quantized = self.quantize(x, labels)
        rec = -logistic_log_prob(x, self.decoder(quantized, self.label_vector(labels, x.shape[0])))
        codes = q.codes.flatten(1)
        prior = F.cross_entropy(self.prior_logits(codes, labels).float().transpose(1, 2), codes, reduction="none").sum(
            1
        )
        return rec, prior, q.commitment.flatten(1).mean(1), codes

    def configure_optimizers(self, lr):
        return [torch.optim.Adam(self.parameters(), lr=lr)]

    def training_losses(self, x, labels, beta, free_bits):
        rec, prior, commitment, _ = self.terms(x, labels)
        loss = rec.mean() + prior.mean() + self.config.commitment * commitment.mean()
        yield 0, loss, {"loss": loss.detach(), "rec": rec.mean().detach(), "prior": prior.mean().detach()}

    @torch.no_grad()
    def validation_loss(self, x, labels):
        rec, prior, _, _ = self.terms(x, labels)
        return {"nelbo": float((rec + prior).mean()), "rec": float(rec.mean()), "prior": float(prior.mean())}

    @torch.no_grad()
    def codes_of(self, x, labels=None) -> torch.Tensor:
        return self.quantize(x, labels)[0].codes.flatten(1)

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None):
        self.check_labels(labels, n)
        device = self.head.weight.device
        codes = torch.zeros(n, self.positions_n, dtype=torch.long, device=device)
        for i in range(self.positions_n):
            probs = torch.softmax(self.prior_logits(codes[:, : i + 1], labels)[:, i].float(), dim=-1)
            codes[:, i] = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(device)
        return self.decode_codes(codes, labels)

    def decode_codes(self, codes, labels=None):
        c = self.config
        grid = self.codebook.lookup(codes).view(codes.shape[0], c.height // 4, c.width // 4, c.code_dim)
        return logistic_mean_image(self.decoder(grid.permute(0, 3, 1, 2), self.label_vector(labels, codes.shape[0])))

    @torch.no_grad()
    def reconstruct(self, x, labels=None):
        return self.decode_codes(self.codes_of(x, labels), labels)

    @torch.no_grad()
    def interpolate(self, x_a, x_b, steps, labels=None):
        """The encoder's grids of a and b (before quantisation), joined by a straight line, each point quantised
        to its nearest codes and decoded: the walk moves through the codebook."""
        vector = self.label_vector(labels, 1)
        h_a = self.encoder(label_plane(vector, x_a))
        h_b = self.encoder(label_plane(vector, x_b))
        t = torch.linspace(0, 1, steps, device=h_a.device)[:, None, None, None]
        walk = ((1 - t) * h_a + t * h_b).permute(0, 2, 3, 1)
        codes = self.codebook.nearest(walk.reshape(-1, walk.shape[-1]).float()).view(steps, -1)
        return self.decode_codes(codes, None if labels is None else labels.expand(steps))

    @torch.no_grad()
    def log_likelihood(self, x, labels, k):
        rec, prior, _, _ = self.terms(x, labels)
        return -(rec + prior)
