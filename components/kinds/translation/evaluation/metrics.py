"""Scoring a translation model: sacreBLEU and chrF on detokenised, cased output, BLEU on lowercased tokenised
text (the form published Multi30k figures use), decoding speed, and the latent family's code use.

sacreBLEU's signature travels with every score (Post 2018): the same number means the same computation.
The lowercased, tokenised BLEU here is sacreBLEU with `lowercase=True` and its 13a tokeniser, which is
mteval's tokenisation and close to, but not byte-identical with, the Moses tokenizer + multi-bleu.perl that
most Multi30k papers ran.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sacrebleu.metrics import BLEU, CHRF
from tokenizers import Tokenizer

from components.data.batches import length_sorted_batches
from components.kinds.translation.models.base import TranslationModel
from components.kinds.translation.params import TranslationEvaluateParams
from components.kinds.translation.training.loop import ParallelArrays, pair_batch
from components.models.codebook import usage_statistics


def output_limit(src_len: torch.Tensor, p: TranslationEvaluateParams, max_positions: int) -> torch.Tensor:
    """Longest output per source: a x source tokens + b, within the model's positions."""
    return torch.clamp((src_len.float() * p.max_length_a).long() + p.max_length_b, max=max_positions)


@torch.no_grad()
def translate_split(
    model: TranslationModel,
    pairs: ParallelArrays,
    decoder: str,
    p: TranslationEvaluateParams,
    device: torch.device,
    batch_size: int | None = None,
) -> list[list[int]]:
    """Target ids for every source of `pairs`, in their order (batches of similar length, then put back)."""
    out: list[list[int] | None] = [None] * len(pairs)
    max_len = model.config.max_positions
    for index in length_sorted_batches(pairs.source.lengths, batch_size or p.batch_size):
        src, src_len, _, _ = pair_batch(pairs, index, max_len, device)
        ids = model.translate(src, src_len, decoder, output_limit(src_len, p, max_len), p.beam_size)
        for i, row in zip(index, ids):
            out[i] = row
    return out  # type: ignore[return-value]


def detokenise(tokenizer: Tokenizer, rows: list[list[int]]) -> list[str]:
    return tokenizer.decode_batch(rows, skip_special_tokens=True)


def bleu_scores(hypotheses: list[str], references: list[str]) -> dict:
    """sacreBLEU (cased, detokenised), chrF, and BLEU on lowercased 13a-tokenised text, with signatures."""
    bleu, chrf, lower = BLEU(), CHRF(), BLEU(lowercase=True, tokenize="13a")
    cased = bleu.corpus_score(hypotheses, [references])
    return {
        "bleu": cased.score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf": chrf.corpus_score(hypotheses, [references]).score,
        "chrf_signature": str(chrf.get_signature()),
        "bleu_lowercase": lower.corpus_score(hypotheses, [references]).score,
        "bleu_lowercase_signature": str(lower.get_signature()),
        "brevity_penalty": cased.bp,
        "length_ratio": cased.sys_len / max(cased.ref_len, 1),
    }


@torch.no_grad()
def decoding_speed(
    model: TranslationModel, pairs: ParallelArrays, decoder: str, p: TranslationEvaluateParams, device: torch.device
) -> dict[str, float]:
    """Milliseconds per sentence at batch 1 and sentences per second at batch 64, on the first
    `speed_sentences` test sources (the same ones for every decoder); one warm-up sentence first."""
    n = min(p.speed_sentences, len(pairs))
    if n == 0:
        return {}
    subset = pairs.head(n)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    translate_split(model, subset.head(1), decoder, p, device, batch_size=1)
    sync()
    started = time.perf_counter()
    for i in range(n):
        src, src_len, _, _ = pair_batch(subset, np.array([i]), model.config.max_positions, device)
        model.translate(src, src_len, decoder, output_limit(src_len, p, model.config.max_positions), p.beam_size)
    sync()
    single = (time.perf_counter() - started) / n
    started = time.perf_counter()
    translate_split(model, subset, decoder, p, device, batch_size=64)
    sync()
    batched = time.perf_counter() - started
    return {"ms_per_sentence_batch1": 1000 * single, "sentences_per_s_batch64": n / batched}


@torch.no_grad()
def reference_code_translations(
    model: TranslationModel, pairs: ParallelArrays, device: torch.device, batch_size: int = 128
) -> list[list[int]] | None:
    """The latent family's output from the reference's own codes (None for a family without codes): the BLEU
    of these bounds what a better prior could reach."""
    if not hasattr(model, "decode_reference_codes"):
        return None
    out: list[list[int] | None] = [None] * len(pairs)
    for index in length_sorted_batches(pairs.target.lengths, batch_size):
        for i, row in zip(
            index, model.decode_reference_codes(*pair_batch(pairs, index, model.config.max_positions, device))
        ):
            out[i] = row
    return out  # type: ignore[return-value]


@torch.no_grad()
def code_usage(model: TranslationModel, pairs: ParallelArrays, device: torch.device, batch_size: int = 128) -> dict:
    """The latent family's codebook use on `pairs` (the codes its autoencoder assigns to the references)."""
    codes = []
    for index in length_sorted_batches(pairs.target.lengths, batch_size):
        out = model(*pair_batch(pairs, index, model.config.max_positions, device))
        if out.codes is None:
            return {}
        codes.append(out.codes.reshape(-1).cpu())
    return usage_statistics(torch.cat(codes), model.config.codebook_size) if codes else {}


def examples_markdown(sources: list[str], references: list[str], outputs: dict[str, list[str]], n: int) -> str:
    lines = ["# Example translations", "", "The first test pairs, each decoder's output beside the reference.", ""]
    for i in range(min(n, len(sources))):
        lines += [f"**{i + 1}.** {sources[i]}", "", f"- reference: {references[i]}"]
        lines += [f"- {decoder}: {rows[i]}" for decoder, rows in outputs.items()]
        lines.append("")
    return "\n".join(lines)
