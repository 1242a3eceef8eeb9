"""Metrics of generated text: diversity of samples, fidelity of reconstructions (sacreBLEU)."""

from __future__ import annotations

import numpy as np


def distinct_n(sentences: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams in the samples (Li et al. 2016): 1.0 means no repetition."""
    grams = [tuple(words[i : i + n]) for words in (s.split() for s in sentences) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(sentences: list[str], limit: int = 100) -> float:
    """Mean BLEU of each sample against the others (Zhu et al. 2018): high means the samples look alike."""
    import sacrebleu

    sentences = [s for s in sentences[:limit] if s.strip()]
    if len(sentences) < 2:
        return 0.0
    scores = [sacrebleu.sentence_bleu(s, sentences[:i] + sentences[i + 1 :]).score for i, s in enumerate(sentences)]
    return float(np.mean(scores))


def reconstruction_scores(references: list[str], reconstructions: list[str]) -> dict[str, float]:
    """Corpus BLEU (0-100) and exact-match rate of reconstructions against their inputs."""
    import sacrebleu

    bleu = sacrebleu.corpus_bleu(reconstructions, [references]).score
    exact = float(np.mean([a.strip() == b.strip() for a, b in zip(references, reconstructions)]))
    return {"recon_bleu": bleu, "recon_exact_match": exact}


def sample_scores(samples: list[str], test_lengths: np.ndarray) -> dict[str, float]:
    lengths = np.array([len(s.split()) for s in samples])
    return {
        "distinct_1": distinct_n(samples, 1),
        "distinct_2": distinct_n(samples, 2),
        "self_bleu": self_bleu(samples),
        "sample_len_mean": float(lengths.mean()),
        "sample_len_std": float(lengths.std()),
        "test_len_mean": float(np.mean(test_lengths)),
    }
