"""Token arrays on disk -> padded batches, vectorised so the training loop does no per-sentence Python work."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


@dataclass(frozen=True)
class TokenArrays:
    """One split in CSR layout: sentence i is ids[offsets[i]:offsets[i+1]], with label labels[i] (conditional
    applications; None otherwise)."""

    ids: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray | None = None

    @classmethod
    def load(cls, directory: str | Path, split: str) -> TokenArrays:
        directory = Path(directory)
        ids_path, off_path = directory / f"{split}.ids.npy", directory / f"{split}.offsets.npy"
        for path in (ids_path, off_path):
            if not path.is_file():
                raise FileNotFoundError(f"{path}: token array not found (run the tokenize stage)")
        # allow_pickle=False: these files must be plain arrays, never objects.
        ids = np.load(ids_path, mmap_mode="r", allow_pickle=False)
        offsets = np.load(off_path, allow_pickle=False)
        if offsets.ndim != 1 or len(offsets) < 1 or offsets[-1] != len(ids):
            raise ValueError(f"{off_path}: offsets do not match {ids_path}")
        labels_path = directory / f"{split}.labels.npy"
        labels = np.load(labels_path, allow_pickle=False) if labels_path.is_file() else None
        if labels is not None and len(labels) != len(offsets) - 1:
            raise ValueError(f"{labels_path}: {len(labels)} labels for {len(offsets) - 1} sentences")
        return cls(ids=ids, offsets=offsets, labels=labels)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def spread(self, n: int) -> TokenArrays:
        """n sentences spread evenly over the split (all of it for n = 0 or n >= its size). A corpus is often
        ordered (WordNet glosses by part of speech, a labelled table by label), so the first n would be one
        corner of it; evenly spaced rows are the whole of it, and the same ones every run."""
        if n <= 0 or n >= len(self):
            return self
        rows = np.unique(np.linspace(0, len(self) - 1, n).round().astype(np.int64))
        lengths = self.lengths[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.concatenate([np.asarray(self.ids[self.offsets[r] : self.offsets[r + 1]]) for r in rows])
        return TokenArrays(
            ids=ids.astype(self.ids.dtype),
            offsets=offsets,
            labels=None if self.labels is None else np.asarray(self.labels)[rows],
        )

    def head(self, n: int) -> TokenArrays:
        n = min(n, len(self)) if n > 0 else len(self)
        return TokenArrays(
            ids=self.ids[: self.offsets[n]],
            offsets=self.offsets[: n + 1],
            labels=None if self.labels is None else self.labels[:n],
        )


def batch_labels(arrays: TokenArrays, index: np.ndarray) -> torch.Tensor | None:
    """The labels of the chosen sentences (None for an unlabelled split), to go with pad_batch's tokens."""
    return None if arrays.labels is None else torch.from_numpy(np.asarray(arrays.labels[index], dtype=np.int64))


def pad_batch(arrays: TokenArrays, index: np.ndarray, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokens of the chosen sentences as a (B, T) tensor padded with PAD_ID, truncated to max_len, plus lengths."""
    starts = arrays.offsets[index]
    lengths = np.minimum(arrays.lengths[index], max_len)
    width = max(int(lengths.max()), 1)
    cols = np.arange(width)
    mask = cols[None, :] < lengths[:, None]
    gather = np.where(mask, starts[:, None] + cols[None, :], 0)
    tokens = np.where(mask, np.asarray(arrays.ids)[gather], PAD_ID).astype(np.int64)
    return torch.from_numpy(tokens), torch.from_numpy(lengths.astype(np.int64))


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, bucket_batches: int = 50
) -> list[np.ndarray]:
    """Shuffle, sort by length inside pools of `bucket_batches` batches, then shuffle the batches.

    Sentences of similar length share a batch (little padding) while each epoch still sees
    a different order.
    """
    order = rng.permutation(len(lengths))
    pool = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive batches of the sentences in length order: for sums over a whole split (validation,
    evaluation), where order does not matter and padding is pure waste (half the work with raw order)."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def with_bos_eos(tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder input (<bos> x) and target (x <eos>), both (B, T+1) and PAD-filled after the end."""
    batch = tokens.shape[0]
    bos = torch.full((batch, 1), BOS_ID, dtype=tokens.dtype, device=tokens.device)
    pad = torch.full((batch, 1), PAD_ID, dtype=tokens.dtype, device=tokens.device)
    inputs = torch.cat([bos, tokens], dim=1)
    targets = torch.cat([tokens, pad], dim=1)
    targets.scatter_(1, lengths.unsqueeze(1), EOS_ID)
    return inputs, targets
