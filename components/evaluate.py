"""Evaluate stage: held-out likelihood and latent-usage metrics of the trained model, plus samples.

The NLL is the importance-weighted bound of Burda et al. (2016) with K samples from
q(z|x) as the proposal; it tightens towards log p(x) as K grows, so it is the number
that compares latent models with a plain language model. KL, mutual information and
active units say whether the latent is used at all (a collapsed VAE has all three near 0).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch

from components import atomic
from components.batches import TokenArrays, length_sorted_batches, pad_batch
from components.cli import stage_main, stage_parser
from components.generation import TextGenerator
from components.models.bsvae import BSVAE, sentence_log_likelihood, with_bos_eos
from components.models.codebook import usage_statistics
from components.models.vqvae import VQVAE
from components.params import EvaluateParams, load_params

log = logging.getLogger(__name__)
LOG_2PI = math.log(2 * math.pi)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(dim=-1)


@torch.no_grad()
def importance_weighted_nll(model: BSVAE, tokens: torch.Tensor, lengths: torch.Tensor, samples: int,
                            chunk: int = 50) -> torch.Tensor:
    """-log (1/K sum_k p(x, z_k) / q(z_k|x)) per sentence, z_k ~ q(z|x); shape (B,)."""
    mu, logvar = model.encode(tokens, lengths)
    inputs, targets = with_bos_eos(tokens, lengths)
    log_weights = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        mu_k, logvar_k = mu.repeat(k, 1), logvar.repeat(k, 1)
        z = mu_k + torch.randn_like(mu_k) * (0.5 * logvar_k).exp()
        log_px_z = model.log_likelihood(z, inputs.repeat(k, 1), targets.repeat(k, 1))
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
        log_qz = log_normal(z, mu_k, logvar_k)
        log_weights.append((log_px_z + log_pz - log_qz).view(k, -1))
    log_weights = torch.cat(log_weights, dim=0)
    return -(torch.logsumexp(log_weights, dim=0) - math.log(samples))


def mutual_information(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None,
                       chunk: int = 256) -> float:
    """I(x; z) under q(z|x) and the empirical data distribution (Hoffman & Johnson 2016; He et al. 2019).

    MI = E_x E_q(z|x)[log q(z|x)] - E_q(z)[log q(z)], with the aggregate posterior q(z)
    approximated by the mixture of all evaluated sentences' posteriors.
    """
    n, d = mu.shape
    neg_entropy = (-0.5 * d * LOG_2PI - 0.5 * (1 + logvar).sum(dim=-1)).mean()
    z = mu + torch.randn(mu.shape, generator=generator, device=mu.device) * (0.5 * logvar).exp()
    log_qz = []
    for start in range(0, n, chunk):
        zi = z[start:start + chunk].unsqueeze(1)  # (c, 1, D) against every posterior (1, N, D)
        log_q = log_normal(zi, mu.unsqueeze(0), logvar.unsqueeze(0))  # (c, N)
        log_qz.append(torch.logsumexp(log_q, dim=1) - math.log(n))
    return float(neg_entropy - torch.cat(log_qz).mean())


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> tuple[int, list[float]]:
    """Dimensions whose posterior mean varies across sentences (Burda et al. 2016): Cov_x(E_q[z_d]) > threshold."""
    variance = mu.var(dim=0, unbiased=True) if len(mu) > 1 else torch.zeros(mu.shape[1])
    return int((variance > threshold).sum()), variance.tolist()


@torch.no_grad()
def evaluate_model(model: BSVAE, data: TokenArrays, p: EvaluateParams, max_len: int) -> dict:
    """All held-out metrics for `data` (per sentence, nats; the end token counts as a token)."""
    if isinstance(model, VQVAE):
        return evaluate_vqvae(model, data, p, max_len)
    model.eval()
    torch.manual_seed(p.seed)
    device = next(model.parameters()).device
    nll = nelbo = kl = correct = 0.0
    kl_dims = torch.zeros(model.config.latent_dim, device=device)
    samples = p.iw_samples if model.config.latent_dim else 1  # without a latent, one "sample" is already exact
    tokens_total = 0
    mus, logvars = [], []
    for index in length_sorted_batches(data.lengths, p.batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        tokens, lengths = tokens.to(device), lengths.to(device)
        nll += importance_weighted_nll(model, tokens, lengths, samples).sum().item()
        nelbo += model(tokens, lengths, sample=True).rec_nll.sum().item()
        out = model(tokens, lengths, sample=False)
        kl += out.kl.sum().item()
        kl_dims += out.kl.sum(dim=0)
        mus.append(out.mu)
        logvars.append(out.logvar)
        inputs, targets = with_bos_eos(tokens, lengths)
        logits, _ = model.decode_logits(out.mu, inputs)
        mask = targets != 0
        correct += ((logits.argmax(-1) == targets) & mask).sum().item()
        tokens_total += int(mask.sum())
    n = len(data)
    mu, logvar = torch.cat(mus), torch.cat(logvars)
    au, variances = active_units(mu)
    generator = torch.Generator(device=mu.device).manual_seed(p.seed)
    return {
        "sentences": n,
        "tokens": tokens_total,
        "iw_samples": samples,
        "nll": nll / n,
        "ppl": math.exp(nll / tokens_total),
        "kl": kl / n,
        "nelbo": (nelbo + kl) / n,
        "mutual_information": mutual_information(mu, logvar, generator),
        "active_units": au,
        "latent_dim": mu.shape[1],
        "reconstruction_token_accuracy": correct / tokens_total,
        "posterior_mean_variance": variances,
        "kl_per_dim": (kl_dims / n).tolist(),
    }


@torch.no_grad()
def evaluate_vqvae(model: VQVAE, data: TokenArrays, p: EvaluateParams, max_len: int) -> dict:
    """The VQ-VAE's held-out metrics, under the same names as the Gaussian models' where they mean the same.

    nll is the exact bound -log p(x|c(x)) - log p(c(x)) (the encoder is deterministic, so no sampling);
    kl is -log p(c(x)), what the codes cost under the prior; mutual_information is the plug-in entropy
    of the code sequences over `data` (I(x; c) = H(c) for a deterministic encoder; at most log N);
    active_units counts code positions that take more than one value; codebook_usage and
    codebook_perplexity show index collapse. With residual levels every level's codebook is its own set
    of entries: codebook_size counts all of them (levels x size), and usage is over all of them.
    """
    model.eval()
    device = next(model.parameters()).device
    rec = prior = correct = 0.0
    tokens_total = 0
    codes, position_nll, variances = [], [], []
    for index in length_sorted_batches(data.lengths, p.batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        tokens, lengths = tokens.to(device), lengths.to(device)
        z_e = model.encode_vectors(tokens, lengths)
        batch_codes = model.quantise(z_e.flatten(1))
        z = model.codes_to_z(batch_codes)
        inputs, targets = with_bos_eos(tokens, lengths)
        logits, _ = model.decode_logits(z, inputs)
        rec -= sentence_log_likelihood(logits, targets).sum().item()
        nll_k = model.prior.position_nll(batch_codes)
        prior += nll_k.sum().item()
        mask = targets != 0
        correct += ((logits.argmax(-1) == targets) & mask).sum().item()
        tokens_total += int(mask.sum())
        codes.append(batch_codes.cpu())
        position_nll.append(nll_k.cpu())
        variances.append(z_e.cpu())
    n = len(data)
    codes_all = torch.cat(codes)
    _, counts = torch.unique(codes_all, dim=0, return_counts=True)
    freq = counts.double() / n
    levels, size = model.config.codebook_levels, model.config.codebook_size
    entries = levels * size
    level_offset = (torch.arange(codes_all.shape[1]) % levels) * size  # level l's code i is entry l * size + i
    distinct_per_position = [int(torch.unique(codes_all[:, k]).numel()) for k in range(codes_all.shape[1])]
    return {
        "sentences": n,
        "tokens": tokens_total,
        "iw_samples": 1,
        "nll": (rec + prior) / n,
        "ppl": math.exp((rec + prior) / tokens_total),
        "kl": prior / n,
        "nelbo": (rec + prior) / n,
        "reconstruction_nll": rec / n,
        "mutual_information": float(-(freq * freq.log()).sum()),
        "active_units": sum(d > 1 for d in distinct_per_position),
        "latent_dim": codes_all.shape[1],
        "reconstruction_token_accuracy": correct / tokens_total,
        "codebook_size": entries,
        **usage_statistics(codes_all + level_offset, entries),
        "codebook_restarts": int(model.codebook.restarts),
        "posterior_mean_variance": torch.cat(variances).var(dim=0, unbiased=n > 1).mean(dim=-1).tolist(),
        "kl_per_dim": torch.cat(position_nll).mean(dim=0).tolist(),
    }


def distinct_n(sentences: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams in the samples (Li et al. 2016): 1.0 means no repetition."""
    grams = [tuple(words[i:i + n]) for words in (s.split() for s in sentences) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(sentences: list[str], limit: int = 100) -> float:
    """Mean BLEU of each sample against the others (Zhu et al. 2018): high means the samples look alike."""
    import sacrebleu

    sentences = [s for s in sentences[:limit] if s.strip()]
    if len(sentences) < 2:
        return 0.0
    scores = [sacrebleu.sentence_bleu(s, sentences[:i] + sentences[i + 1:]).score for i, s in enumerate(sentences)]
    return float(np.mean(scores))


def reconstruction_scores(references: list[str], reconstructions: list[str]) -> dict[str, float]:
    """Corpus BLEU (0-100) and exact-match rate of reconstructions against their inputs."""
    import sacrebleu

    bleu = sacrebleu.corpus_bleu(reconstructions, [references]).score
    exact = float(np.mean([a.strip() == b.strip() for a, b in zip(references, reconstructions)]))
    return {"recon_bleu": bleu, "recon_exact_match": exact}


def sample_scores(samples: list[str], test_lengths: np.ndarray) -> dict[str, float]:
    lengths = np.array([len(s.split()) for s in samples])
    return {"distinct_1": distinct_n(samples, 1), "distinct_2": distinct_n(samples, 2),
            "self_bleu": self_bleu(samples), "sample_len_mean": float(lengths.mean()),
            "sample_len_std": float(lengths.std()), "test_len_mean": float(np.mean(test_lengths))}


def decode_split(generator: TextGenerator, data: TokenArrays, n: int) -> list[str]:
    """The first n sentences of a split as the model sees them (after tokenization, <unk> included)."""
    n = min(n, len(data))
    return generator.decode([np.asarray(data.ids[data.offsets[i]:data.offsets[i + 1]]).tolist() for i in range(n)])


def samples_report(generator: TextGenerator, samples: list[str], originals: list[str],
                   reconstructions: list[str]) -> str:
    """Markdown a person reads: prior samples, reconstructions beside their inputs, one interpolation."""
    lines = ["# Samples", "", "## From the prior (temperature 1, top-p 0.9)", ""]
    lines += [f"{i + 1}. {s}" for i, s in enumerate(samples[:20])]
    lines += ["", "## Reconstructions (greedy, from the posterior mean)", "", "| input | reconstruction |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in zip(originals[:10], reconstructions[:10])]
    if len(originals) >= 2:
        lines += ["", f"## Interpolation: {originals[0]!r} -> {originals[1]!r}", ""]
        lines += [f"{i}. {s}" for i, s in enumerate(generator.interpolate(originals[0], originals[1], steps=5))]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--model-dir", default="models/bsvae")
    parser.add_argument("--tokenizer", default="data/tokenizer/tokenizer.json")
    parser.add_argument("--tokens", default="data/tokens")
    parser.add_argument("--metrics", default="metrics/eval.json")
    parser.add_argument("--samples", default="reports/samples.md")
    parser.add_argument("--latent", default="metrics/latent_dims.json")

    def run(args):
        params = load_params(args.params)
        p = params.evaluate
        generator = TextGenerator.from_files(args.model_dir, args.tokenizer)
        test = TokenArrays.load(args.tokens, "test").head(p.max_sentences)
        metrics = evaluate_model(generator.model, test, p, params.train.max_len)
        originals = decode_split(generator, test, p.reconstruct_sentences)
        reconstructions = [r for i in range(0, len(originals), p.batch_size)
                           for r in generator.reconstruct(originals[i:i + p.batch_size])]
        samples = generator.sample(p.num_samples, seed=p.seed)
        metrics.update(reconstruction_scores(originals, reconstructions))
        metrics.update(sample_scores(samples, test.lengths))
        latent = [{"dim": d, "kl": kl, "posterior_mean_variance": var} for d, (kl, var)
                  in enumerate(zip(metrics.pop("kl_per_dim"), metrics.pop("posterior_mean_variance")))]
        atomic.write_json(args.metrics, metrics)
        atomic.write_json(args.latent, latent)
        atomic.write_text(args.samples, samples_report(generator, samples, originals, reconstructions))
        log.info("evaluated: %s", {k: v for k, v in metrics.items() if not isinstance(v, list)})

    stage_main("evaluate", run, parser)


if __name__ == "__main__":
    main()
