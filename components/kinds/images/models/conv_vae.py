"""The convolutional BS-VAE and its reference, the plain VAE: the same network, a Gaussian latent and a
discretised-logistic decoder; they differ only in training. The BS-VAE follows train.beta_schedule with free
bits (the cures for posterior collapse); the plain VAE trains at beta 1 throughout with no free bits, so what
the schedule buys is measured against it at equal size.

Class-conditional with `model.label_prior: learned`, both learn the prior p(z | y) = N(mu_y, diag sigma_y^2),
one mean and spread per class: the encoder sees the image, so z carries the class whatever the decoder is
told, and with the standard N(0, I) prior a sampled z picks a class of its own that the label then fights.
With a prior per class, the KL term pulls each class's codes to its own region and sampling from p(z | y)
lands there."""

from __future__ import annotations

import math

import torch
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


class ConvVAE(ImageModel):
    family = "bsvae"
    has_likelihood = True
    scheduled = True
    """Whether training_losses applies the beta schedule and free bits (the plain VAE does not)."""

    def __init__(self, config: ImageConfig):
        super().__init__(config)
        c = config
        extra = 1 if c.num_classes else 0
        self.encoder = ConvEncoder(c.channels_in + extra, c.channels, 2 * c.channels)
        grid = (c.height // 4) * (c.width // 4) * 2 * c.channels
        self.to_latent = nn.Linear(grid, 2 * c.latent_dim)
        self.from_latent = nn.Linear(c.latent_dim + (16 if c.num_classes else 0), grid)
        self.decoder = ConvDecoder(2 * c.channels, c.channels, 2 * c.channels_in, cond_dim=16 if c.num_classes else 0)
        learned = c.num_classes and c.label_prior == "learned"
        self.prior = nn.Embedding(c.num_classes, 2 * c.latent_dim) if learned else None
        if self.prior is not None:
            nn.init.zeros_(self.prior.weight)  # starts as N(0, I) for every class

    def prior_params(self, labels, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) of p(z | y) per row: zeros, i.e. N(0, I), unless the prior is learned."""
        if self.prior is None:
            zeros = torch.zeros(batch, self.config.latent_dim, device=self.to_latent.weight.device)
            return zeros, zeros
        self.check_labels(labels, batch)
        mu, logvar = self.prior(labels).float().chunk(2, dim=1)
        return mu, logvar.clamp(-6, 4)

    def encode(self, x, labels):
        h = self.encoder(label_plane(self.label_vector(labels, x.shape[0]), x)).flatten(1)
        mu, logvar = self.to_latent(h).float().chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)

    def decode(self, z, labels):
        c = self.config
        vector = self.label_vector(labels, z.shape[0])
        z = z if vector is None else torch.cat([z, vector], dim=1)
        h = self.from_latent(z).view(z.shape[0], 2 * c.channels, c.height // 4, c.width // 4)
        return self.decoder(h, vector)

    def terms(self, x, labels):
        mu, logvar = self.encode(x, labels)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        rec = -logistic_log_prob(x, self.decode(z, labels))
        prior_mu, prior_logvar = self.prior_params(labels, x.shape[0])
        # KL(N(mu, var) || N(prior_mu, prior_var)) per dimension, (B, D)
        kl = 0.5 * (prior_logvar - logvar + (logvar.exp() + (mu - prior_mu).pow(2)) / prior_logvar.exp() - 1)
        return rec, kl

    def configure_optimizers(self, lr):
        return [torch.optim.Adam(self.parameters(), lr=lr)]

    def training_losses(self, x, labels, beta, free_bits):
        rec, kl = self.terms(x, labels)
        if not self.scheduled:
            beta, free_bits = 1.0, 0.0
        kl_term = torch.clamp(kl.mean(0), min=free_bits).sum() if free_bits > 0 else kl.sum(1).mean()
        loss = rec.mean() + beta * kl_term
        yield (
            0,
            loss,
            {"loss": loss.detach(), "rec": rec.mean().detach(), "kl": kl.sum(1).mean().detach(), "beta": beta},
        )

    @torch.no_grad()
    def validation_loss(self, x, labels):
        rec, kl = self.terms(x, labels)
        return {"nelbo": float((rec + kl.sum(1)).mean()), "rec": float(rec.mean()), "kl": float(kl.sum(1).mean())}

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None):
        device = self.from_latent.weight.device
        prior_mu, prior_logvar = self.prior_params(labels, n)
        z = (
            prior_mu
            + torch.randn(n, self.config.latent_dim, generator=generator).to(device) * (0.5 * prior_logvar).exp()
        )
        return logistic_mean_image(self.decode(z, labels))

    @torch.no_grad()
    def reconstruct(self, x, labels=None):
        mu, _ = self.encode(x, labels)
        return logistic_mean_image(self.decode(mu, labels))

    @torch.no_grad()
    def interpolate(self, x_a, x_b, steps, labels=None):
        """Posterior means of a and b, joined by a straight line, each point decoded."""
        (mu_a, _), (mu_b, _) = self.encode(x_a, labels), self.encode(x_b, labels)
        t = torch.linspace(0, 1, steps, device=mu_a.device)[:, None]
        walk = labels.expand(steps) if labels is not None else None
        return logistic_mean_image(self.decode((1 - t) * mu_a + t * mu_b, walk))

    @torch.no_grad()
    def log_likelihood(self, x, labels, k):
        """Importance-weighted bound (Burda et al. 2016): log mean_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q
        (p(z_k | y) for a conditional model, so the bound is on log p(x | y))."""
        mu, logvar = self.encode(x, labels)
        std = torch.exp(0.5 * logvar)
        prior_mu, prior_logvar = self.prior_params(labels, x.shape[0])
        weights = []
        for _ in range(k):
            eps = torch.randn_like(mu)
            z = mu + eps * std
            log_px = logistic_log_prob(x, self.decode(z, labels))
            log_pz = -0.5 * ((z - prior_mu).pow(2) / prior_logvar.exp() + prior_logvar + math.log(2 * math.pi)).sum(1)
            log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(1)
            weights.append(log_px + log_pz - log_qz)
        return torch.logsumexp(torch.stack(weights), dim=0) - math.log(k)


class PlainVAE(ConvVAE):
    family = "vae"
    scheduled = False
