"""The text kind's trivial baseline: a unigram language model counted on the train split.

A held-out NLL per sentence grows with sentence length whatever the model, so a fixed threshold tuned on one
corpus refuses every corpus of longer sentences. A unigram LM scored on the same test sentences, the same tokens
and the same truncation is on the same scale: a model that cannot beat word frequencies has learnt nothing
worth registering, whatever the corpus.
"""

from __future__ import annotations

import math

import numpy as np

from components.data.batches import EOS_ID, TokenArrays


def unigram_log_probs(train: TokenArrays, vocab_size: int) -> np.ndarray:
    """-log p(token) per id: counts of the train split's tokens plus one end token per sentence, add-one smoothed
    over the whole vocabulary (a test token never seen in train keeps a finite cost)."""
    counts = np.bincount(np.asarray(train.ids, dtype=np.int64), minlength=vocab_size).astype(np.float64)
    counts[EOS_ID] += len(train)
    return -np.log((counts + 1) / (counts.sum() + len(counts)))


def unigram_baseline(train: TokenArrays, test: TokenArrays, vocab_size: int, max_len: int) -> dict[str, float]:
    """NLL per test sentence (nats; the end token counts, tokens past max_len are cut as the models' are) and
    perplexity of the unigram LM: `baseline_nll` and `baseline_ppl` beside the model's `nll` and `ppl`."""
    costs = unigram_log_probs(train, vocab_size)
    lengths = np.minimum(test.lengths, max_len)
    keep = np.arange(len(test.ids)) - np.repeat(test.offsets[:-1], test.lengths) < np.repeat(lengths, test.lengths)
    ids = np.asarray(test.ids, dtype=np.int64)[keep]
    total = float(costs[ids].sum() + costs[EOS_ID] * len(test))
    tokens = int(lengths.sum()) + len(test)
    return {"baseline_nll": total / max(len(test), 1), "baseline_ppl": math.exp(total / max(tokens, 1))}
