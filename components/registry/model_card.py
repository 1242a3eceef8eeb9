"""The model card: the version description a person reads in the registry UI."""

from __future__ import annotations

from pathlib import Path

from components.core.image_params import ImageParams
from components.core.params import Params
from components.core.translation_params import TranslationParams


def describe_family(params: Params) -> str:
    m, t = params.model, params.train
    if m.family == "bsvae":
        names = {"lstm": "LSTM", "transformer": "Transformer"}
        return (f"A BS-VAE sentence model ({names[m.encoder]} encoder, {names[m.decoder]} decoder, "
                f"{m.latent_dim}-d Gaussian latent, beta schedule `{t.beta_schedule}`, free bits {t.free_bits}). Generates sentences by "
                "sampling z from N(0, I) and decoding.")
    if m.family == "vqvae":
        books = (f"a {m.codebook_size}-entry EMA codebook" if m.codebook_levels == 1 else
                 f"the sum of {m.codebook_levels} residual {m.codebook_size}-entry EMA codebooks")
        return (f"A VQ-VAE sentence model: {m.codes} discrete codes per sentence, each from {books} "
                f"(LSTM encoder and decoder), with a {m.layers}-block Transformer prior over the codes. "
                "Generates sentences by sampling codes from the prior and decoding them; its NLL is the bound "
                "-log p(x|codes) - log p(codes).")
    if m.family == "transformer_lm":
        return (f"A causal Transformer language model ({m.layers} blocks, {m.heads} heads, width {m.embed_dim}, "
                f"feed-forward {m.hidden_dim}, no latent): a likelihood baseline. Generates by ancestral sampling.")
    return (f"An LSTM language model (embedding {m.embed_dim}, hidden {m.hidden_dim}, no latent): the likelihood "
            "baseline for the latent models. Generates by ancestral sampling.")


def nll_kind(metrics: dict) -> str:
    """How the reported NLL was obtained, for the model card."""
    if "codebook_perplexity" in metrics:
        return "bound, -log p(x|codes) - log p(codes)"
    if not metrics.get("latent_units"):
        return "exact"
    return f"importance-weighted, K={int(metrics['iw_samples'])}"


def model_card(name: str, params: Params, metrics: dict, lineage: dict, commit: str, samples: list[str]) -> str:
    """The version description a person reads in the registry UI."""
    m = metrics
    lines = [
        f"# {name}", "",
        describe_family(params), "",
        "## Data", "",
        f"- corpus: `{params.data.corpus}`, tokenizer: {params.tokenize.kind}-level, vocab {params.tokenize.vocab_size}",
        f"- data (splits) md5 `{lineage['data.splits_md5']}`, tokenizer md5 `{lineage['tokenizer.md5']}`",
        f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`", "",
        "## Held-out test metrics", "",
        f"| NLL ({nll_kind(m)}) | PPL | KL | MI | active units | recon BLEU |",
        "|---|---|---|---|---|---|",
        f"| {m['nll']:.2f} | {m['ppl']:.1f} | {m['kl']:.2f} | {m['mutual_information']:.2f} | "
        f"{int(m['active_units'])}/{int(m['latent_units'])} | {m['recon_bleu']:.1f} |", "",
        *([f"Codebook: perplexity {m['codebook_perplexity']:.1f} of {int(m['codebook_size'])} codes, "
           f"{100 * m['codebook_usage']:.0f}% in use; token reconstruction accuracy "
           f"{100 * m['reconstruction_token_accuracy']:.1f}%.", ""] if "codebook_perplexity" in m else []),
        *([f"Conditioned on {len(m.get('control_accuracy_per_label') or [])} labels: control accuracy "
           f"{m['control_accuracy']:.3f} (the label classifier on real test text: {m['classifier_test_accuracy']:.3f}; "
           f"ratio {m['control_ratio']:.2f}).", ""] if "control_accuracy" in m else []),
        "## Samples", "",
    ]
    lines += [f"- {s}" for s in samples[:5]]
    return "\n".join(lines) + "\n"


def read_samples(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [l.split(". ", 1)[1] for l in lines if l[:1].isdigit() and ". " in l][:5]


def translation_card(name: str, params: TranslationParams, metrics: dict, lineage: dict, commit: str) -> str:
    """The version description of a translation model: what it is, its data, BLEU and speed per decoder."""
    m, d, model = metrics, params.data, params.model
    what = (f"A Transformer encoder-decoder ({model.encoder_layers} + {model.decoder_layers} layers, width "
            f"{model.d_model}, {model.heads} heads): translates token by token, greedy or beam search."
            if model.family == "transformer" else
            f"A VQ latent translator: a prior writes one discrete code (of {model.codebook_size}) per "
            f"{model.compression} target tokens from the source, then every target token is decoded at once.")
    decoders = [key.removeprefix("bleu_") for key in m if key.startswith("bleu_") and not key.startswith(
        ("bleu_signature", "bleu_lowercase"))]
    rows = [f"| {dec} | {m[f'bleu_{dec}']:.2f} | {m[f'chrf_{dec}']:.2f} | {m[f'bleu_lowercase_{dec}']:.2f} | "
            f"{m.get(f'ms_per_sentence_batch1_{dec}', float('nan')):.1f} |" for dec in decoders]
    return "\n".join([
        f"# {name}", "", what, "",
        "## Data", "",
        f"- {d.source_lang} -> {d.target_lang}, corpus `{d.corpus}`; BPE {params.tokenize.vocab_size}"
        f"{' (joint)' if params.tokenize.joint else ' per side'}",
        f"- data (splits) md5 `{lineage['data.splits_md5']}`, tokenizer md5 `{lineage['tokenizer.md5']}`",
        f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`", "",
        f"## Test metrics ({int(m['test_pairs'])} pairs; default decoder: {m['default_decoder']})", "",
        "| decoder | BLEU | chrF | BLEU (lowercased, tokenised) | ms/sentence, batch 1 |", "|---|---|---|---|---|",
        *rows, "", f"sacreBLEU: `{m['bleu_signature']}`", ""])


IMAGE_FAMILY_TEXT = {
    "bsvae": "A convolutional BS-VAE: Gaussian latent, discretised-logistic pixels, KL weight on a `{schedule}` schedule "
             "with free bits {free_bits}.",
    "vae": "A plain convolutional VAE (beta 1, no free bits): the BS-VAE's network, its reference.",
    "vqvae": "An image VQ-VAE: a grid of codes from a {codebook}-entry EMA codebook, a causal Transformer prior over "
             "the grid; samples are grids drawn from the prior, decoded.",
    "gan": "A DCGAN: a transposed-convolution generator from Gaussian noise, trained against a convolutional "
           "discriminator (non-saturating loss). No likelihood: judged by FID/KID.",
}


def image_card(name: str, params: ImageParams, metrics: dict, lineage: dict, commit: str) -> str:
    """The version description of an image model: what it is, its data, NLL / bits per dimension and FID."""
    m, model = metrics, params.model
    what = IMAGE_FAMILY_TEXT[model.family].format(schedule=params.train.beta_schedule, free_bits=params.train.free_bits,
                                                  codebook=model.codebook_size)
    likelihood = (f"| NLL {m['nll']:.1f} nats (K={int(m['iw_samples'])}) | {m['bpd']:.3f} bits/dim "
                  if "bpd" in m else "| no likelihood | - ")
    return "\n".join([
        f"# {name}", "", what + (" Conditioned on the class." if model.conditional else ""), "",
        "## Data", "",
        f"- corpus `{params.data.corpus}`, {params.validate.height}x{params.validate.width}x{params.validate.channels}",
        f"- data (splits) md5 `{lineage['data.splits_md5']}`, classifier md5 `{lineage.get('classifier.md5')}`",
        f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`", "",
        f"## Test metrics ({int(m['test_images'])} images)", "",
        "| likelihood | bits/dim | FID | KID |", "|---|---|---|---|",
        f"{likelihood}| {m['fid']:.2f} | {m['kid']:.4f} |", "",
        "FID and KID use this project's own classifier's features, not Inception's: they compare models of this "
        "project only.", ""])
