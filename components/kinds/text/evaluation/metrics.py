"""Held-out likelihood and latent-usage metrics of a trained model, for any family.

The NLL is the importance-weighted bound of Burda et al. (2016) with K samples from
q(z|x) as the proposal; it tightens towards log p(x) as K grows, so it is the number
that compares latent models with a plain language model. KL, mutual information and
active units say whether the latent is used at all (a collapsed VAE has all three near 0).
"""

from __future__ import annotations

import math

import torch

from components.data.batches import TokenArrays, batch_labels, length_sorted_batches, pad_batch, with_bos_eos
from components.kinds.text.evaluation.latent import active_units, mutual_information
from components.kinds.text.evaluation.likelihood import importance_weighted_nll
from components.kinds.text.models.base import TextModel, sentence_log_likelihood
from components.kinds.text.params import EvaluateParams
from components.models.codebook import usage_statistics


def per_label_mean(values: torch.Tensor, labels: torch.Tensor | None, names: list[str] | None) -> dict[str, float]:
    """Mean of per-sentence `values` for each label (name -> mean); empty for an unconditional model."""
    if labels is None or not names:
        return {}
    sums = torch.zeros(len(names), dtype=torch.float64).index_add_(0, labels, values.double())
    counts = torch.bincount(labels, minlength=len(names))
    return {name: float(sums[i] / counts[i]) for i, name in enumerate(names) if counts[i]}


@torch.no_grad()
def evaluate_model(
    model: TextModel, data: TokenArrays, p: EvaluateParams, max_len: int, label_names: list[str] | None = None
) -> dict:
    """All held-out metrics for `data` (per sentence, nats; the end token counts as a token). A conditional model
    is scored given each sentence's label (-log p(x|y)); `nll_per_label` then breaks the NLL down by label."""
    if model.latent_kind == "discrete":
        return evaluate_vqvae(model, data, p, max_len, label_names)
    model.eval()
    torch.manual_seed(p.seed)
    device = next(model.parameters()).device
    nll = nelbo = kl = correct = 0.0
    kl_dims = torch.zeros(model.latent_dim, device=device)
    samples = p.iw_samples if model.latent_dim else 1  # without a latent, one "sample" is already exact
    tokens_total = 0
    mus, logvars, sentence_nll, sentence_labels = [], [], [], []
    for index in length_sorted_batches(data.lengths, p.batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        tokens, lengths = tokens.to(device), lengths.to(device)
        labels = batch_labels(data, index)
        labels = None if labels is None else labels.to(device)
        batch_nll = importance_weighted_nll(model, tokens, lengths, samples, p.rows_per_pass, labels)
        nll += batch_nll.sum().item()
        sentence_nll.append(batch_nll.cpu())
        if labels is not None:
            sentence_labels.append(labels.cpu())
        nelbo += model(tokens, lengths, sample=True, labels=labels).rec_nll.sum().item()
        out = model(tokens, lengths, sample=False, labels=labels)
        kl += out.kl.sum().item()
        kl_dims += out.kl.sum(dim=0)
        mus.append(out.mu)
        logvars.append(out.logvar)
        inputs, targets = with_bos_eos(tokens, lengths)
        logits, _ = model.decode_logits(out.mu, inputs, None, labels)
        mask = targets != 0
        correct += ((logits.argmax(-1) == targets) & mask).sum().item()
        tokens_total += int(mask.sum())
    n = len(data)
    mu, logvar = torch.cat(mus), torch.cat(logvars)
    by_label = per_label_mean(
        torch.cat(sentence_nll), torch.cat(sentence_labels) if sentence_labels else None, label_names
    )
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
        "latent_units": mu.shape[1],
        "reconstruction_token_accuracy": correct / tokens_total,
        "posterior_mean_variance": variances,
        "kl_per_dim": (kl_dims / n).tolist(),
        **({"nll_per_label": by_label} if by_label else {}),
    }


@torch.no_grad()
def evaluate_vqvae(
    model: TextModel, data: TokenArrays, p: EvaluateParams, max_len: int, label_names: list[str] | None = None
) -> dict:
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
    codes, position_nll, variances, sentence_nll, sentence_labels = [], [], [], [], []
    for index in length_sorted_batches(data.lengths, p.batch_size):
        tokens, lengths = pad_batch(data, index, max_len)
        tokens, lengths = tokens.to(device), lengths.to(device)
        labels = batch_labels(data, index)
        labels = None if labels is None else labels.to(device)
        z_e = model.encode_vectors(tokens, lengths, labels)
        batch_codes = model.quantise(z_e.flatten(1))
        z = model.codes_to_z(batch_codes)
        inputs, targets = with_bos_eos(tokens, lengths)
        logits, _ = model.decode_logits(z, inputs, None, labels)
        batch_rec = -sentence_log_likelihood(logits, targets)
        rec += batch_rec.sum().item()
        nll_k = model.prior.position_nll(batch_codes, labels)
        prior += nll_k.sum().item()
        sentence_nll.append((batch_rec + nll_k.sum(dim=1)).cpu())
        if labels is not None:
            sentence_labels.append(labels.cpu())
        mask = targets != 0
        correct += ((logits.argmax(-1) == targets) & mask).sum().item()
        tokens_total += int(mask.sum())
        codes.append(batch_codes.cpu())
        position_nll.append(nll_k.cpu())
        variances.append(z_e.cpu())
    n = len(data)
    by_label = per_label_mean(
        torch.cat(sentence_nll), torch.cat(sentence_labels) if sentence_labels else None, label_names
    )
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
        "latent_units": codes_all.shape[1],
        "reconstruction_token_accuracy": correct / tokens_total,
        "codebook_size": entries,
        **usage_statistics(codes_all + level_offset, entries),
        "codebook_restarts": int(model.codebook.restarts),
        "posterior_mean_variance": torch.cat(variances).var(dim=0, unbiased=n > 1).mean(dim=-1).tolist(),
        "kl_per_dim": torch.cat(position_nll).mean(dim=0).tolist(),
        **({"nll_per_label": by_label} if by_label else {}),
    }
