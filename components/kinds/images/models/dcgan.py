"""A DCGAN (Radford et al. 2016) of comparable size: a transposed-convolution generator from Gaussian noise and
a convolutional discriminator, trained with the non-saturating loss (Goodfellow et al. 2014). Conditional:
the class embedding joins the noise, and the discriminator scores with a projection (Miyato & Koyama 2018).
It defines no likelihood and has no encoder: it is judged by FID/KID only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from components.kinds.images.models.base import ImageConfig, ImageModel, to_uint8


class DCGAN(ImageModel):
    family = "gan"
    has_likelihood = False

    def __init__(self, config: ImageConfig):
        super().__init__(config)
        c = config
        ch, h4, w4 = c.channels, c.height // 4, c.width // 4
        self.grid = (2 * ch, h4, w4)
        self.generator = nn.Sequential(
            nn.Linear(c.latent_dim + (16 if c.num_classes else 0), 2 * ch * h4 * w4),
            nn.Unflatten(1, self.grid),
            nn.BatchNorm2d(2 * ch),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * ch, ch, 4, 2, 1),
            nn.BatchNorm2d(ch),
            nn.ReLU(),
            nn.ConvTranspose2d(ch, c.channels_in, 4, 2, 1),
            nn.Tanh(),
        )
        self.discriminator = nn.Sequential(
            nn.Conv2d(c.channels_in, ch, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.critic = nn.Linear(2 * ch * h4 * w4, 1)
        self.project = nn.Linear(16, 2 * ch * h4 * w4, bias=False) if c.num_classes else None

    def generate(self, z, labels):
        vector = self.label_vector(labels, z.shape[0])
        return self.generator(z if vector is None else torch.cat([z, vector], dim=1))

    def score(self, x, labels):
        h = self.discriminator(x)
        out = self.critic(h).squeeze(1)
        vector = self.label_vector(labels, x.shape[0])
        return out if vector is None else out + (self.project(vector) * h).sum(1)

    def configure_optimizers(self, lr):
        g = list(self.generator.parameters()) + (list(self.label_embed.parameters()) if self.label_embed else [])
        d = (
            list(self.discriminator.parameters())
            + list(self.critic.parameters())
            + (list(self.project.parameters()) if self.project is not None else [])
        )
        return [torch.optim.Adam(g, lr=lr, betas=(0.5, 0.999)), torch.optim.Adam(d, lr=lr, betas=(0.5, 0.999))]

    def training_losses(self, x, labels, beta, free_bits):
        """The discriminator's update (optimiser 1), then the generator's (optimiser 0) against the updated
        discriminator, on the same fakes. With train.grad_accum the engine keeps each micro-batch's generator graph
        until the generator's update, so accumulation saves the GAN less memory than a VAE."""
        z = torch.randn(x.shape[0], self.config.latent_dim, device=x.device)
        fake = self.generate(z, labels)
        d_loss = F.softplus(-self.score(x, labels)).mean() + F.softplus(self.score(fake.detach(), labels)).mean()
        yield 1, d_loss, {"d_loss": d_loss.detach()}
        g_loss = F.softplus(-self.score(fake, labels)).mean()
        yield 0, g_loss, {"g_loss": g_loss.detach(), "loss": g_loss.detach() + d_loss.detach()}

    @torch.no_grad()
    def validation_loss(self, x, labels):
        z = torch.randn(x.shape[0], self.config.latent_dim, device=x.device)
        real, fake = self.score(x, labels), self.score(self.generate(z, labels), labels)
        return {"d_real": float(torch.sigmoid(real).mean()), "d_fake": float(torch.sigmoid(fake).mean())}

    @torch.no_grad()
    def interpolate(self, x_a, x_b, steps, labels=None):
        """The GAN has no encoder: a walk between two noise vectors (seeded from the images' pixel sums, so the
        same pair gives the same strip)."""
        device = self.critic.weight.device
        seeds = [int(x.sum().item() * 1000) % (2**31) for x in (x_a, x_b)]
        z_a, z_b = (
            torch.randn(1, self.config.latent_dim, generator=torch.Generator().manual_seed(s)).to(device) for s in seeds
        )
        t = torch.linspace(0, 1, steps, device=device)[:, None]
        walk = labels.expand(steps) if labels is not None else None
        return to_uint8(self.generate((1 - t) * z_a + t * z_b, walk))

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None):
        device = self.critic.weight.device
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(device)
        return to_uint8(self.generate(z, labels))
