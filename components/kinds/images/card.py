"""The images kind's model card: the version description a person reads in the registry UI."""

from __future__ import annotations

from components.kinds.images.params import ImageParams

IMAGE_FAMILY_TEXT = {
    "bsvae": "A convolutional BS-VAE: Gaussian latent, discretised-logistic pixels, KL weight on a `{schedule}` "
    "schedule with free bits {free_bits}.",
    "vae": "A plain convolutional VAE (beta 1, no free bits): the BS-VAE's network, its reference.",
    "vqvae": "An image VQ-VAE: a grid of codes from a {codebook}-entry EMA codebook, a causal Transformer prior over "
    "the grid; samples are grids drawn from the prior, decoded.",
    "gan": "A DCGAN: a transposed-convolution generator from Gaussian noise, trained against a convolutional "
    "discriminator (non-saturating loss). No likelihood: judged by FID/KID.",
}


def image_card(name: str, params: ImageParams, metrics: dict, lineage: dict, commit: str) -> str:
    """The version description of an image model: what it is, its data, NLL / bits per dimension and FID."""
    m, model = metrics, params.model
    what = IMAGE_FAMILY_TEXT[model.family].format(
        schedule=params.train.beta_schedule, free_bits=params.train.free_bits, codebook=model.codebook_size
    )
    likelihood = (
        f"| NLL {m['nll']:.1f} nats (K={int(m['iw_samples'])}) | {m['bpd']:.3f} bits/dim "
        if "bpd" in m
        else "| no likelihood | - "
    )
    return "\n".join(
        [
            f"# {name}",
            "",
            what + (" Conditioned on the class." if model.conditional else ""),
            "",
            "## Data",
            "",
            f"- corpus `{params.data.corpus}`, "
            f"{params.validate.height}x{params.validate.width}x{params.validate.channels}",
            f"- data (splits) md5 `{lineage['data.splits_md5']}`, classifier md5 `{lineage.get('classifier.md5')}`",
            f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`",
            "",
            f"## Test metrics ({int(m['test_images'])} images)",
            "",
            "| likelihood | bits/dim | FID | KID |",
            "|---|---|---|---|",
            f"{likelihood}| {m['fid']:.2f} | {m['kid']:.4f} |",
            "",
            "FID and KID use this project's own classifier's features, not Inception's: they compare models of this "
            "project only.",
            "",
        ]
    )
