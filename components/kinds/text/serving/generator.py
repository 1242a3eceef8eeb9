"""Text in, text out: a trained model plus its tokenizer (and label vocabulary, for a conditional model), as used
by evaluation reports and the served model.

Generation never emits <unk> (models/decoding.py). A prefix is continued: it is encoded with the model's
tokenizer, read by the decoder after <bos>, and returned as the user wrote it, so a word the tokenizer never
saw (an <unk> for a word-level vocabulary) still reads as typed. Labels are asked for by name; a name the model
does not know is one error listing the ones it does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from components.data.batches import UNK_ID, TokenArrays, pad_batch
from components.kinds.text.data.labels import LABELS_FILE, label_ids, read_labels
from components.kinds.text.models.factory import load_model


class TextGenerator:
    """Sample, continue, reconstruct and interpolate sentences with any family."""

    def __init__(
        self, model: torch.nn.Module, tokenizer: Tokenizer, max_len: int = 48, labels: list[str] | None = None
    ):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.labels = labels or []
        self.device = next(model.parameters()).device
        if self.model.num_labels != len(self.labels):
            raise ValueError(
                f"the model has {self.model.num_labels} labels but its label vocabulary {len(self.labels)}"
            )

    @classmethod
    def from_files(cls, model_dir: str | Path, tokenizer_path: str | Path, device: str = "cpu") -> TextGenerator:
        tokenizer_path = Path(tokenizer_path)
        if not tokenizer_path.is_file():
            raise FileNotFoundError(f"{tokenizer_path}: tokenizer file not found")
        labels_path = Path(model_dir) / LABELS_FILE
        labels = read_labels(labels_path) if labels_path.is_file() else None
        return cls(load_model(model_dir, device), Tokenizer.from_file(str(tokenizer_path)), labels=labels)

    # --- text <-> ids --------------------------------------------------------
    def decode(self, rows: list[list[int]]) -> list[str]:
        # <unk> stays visible where the input had one: hiding it would make reconstructions look worse-formed.
        return self.tokenizer.decode_batch(rows, skip_special_tokens=False)

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        offsets = np.concatenate([[0], np.cumsum([len(i) for i in ids])]).astype(np.int64)
        flat = np.fromiter((t for row in ids for t in row), dtype=np.int64, count=int(offsets[-1]))
        tokens, lengths = pad_batch(TokenArrays(flat, offsets), np.arange(len(ids)), self.max_len)
        return tokens.to(self.device), lengths.to(self.device)

    def label_tensor(self, label: str | list[str] | None, n: int) -> torch.Tensor | None:
        """Ids of `label` (one name for all n rows, or one name per row); None for an unconditional model."""
        if not self.model.num_labels:
            if label is not None:
                raise ValueError(f"this model is unconditional: it takes no label (got {label!r})")
            return None
        if label is None:
            raise ValueError(f"this model is conditional: give a label, one of {self.labels}")
        names = [label] * n if isinstance(label, str) else list(label)
        return torch.tensor(label_ids(names, self.labels), dtype=torch.long, device=self.device)

    # --- generation ------------------------------------------------------------
    @torch.no_grad()
    def sample(
        self,
        n: int,
        temperature: float = 1.0,
        top_p: float = 0.9,
        max_len: int | None = None,
        seed: int | None = None,
        label: str | list[str] | None = None,
        prefix: str | None = None,
        reference: str | None = None,
    ) -> list[str]:
        """n sentences: z from the prior (p(z|y) for a label), or from the posterior of `reference`, decoded after
        `prefix` when one is given (an empty prefix is no prefix)."""
        generator = torch.Generator(device=self.device)
        generator.manual_seed(seed if seed is not None else torch.seed())
        labels = self.label_tensor(label, n)
        if reference is not None and reference.strip():
            z = self.posterior_sample([reference] * n, labels, generator)
        else:
            z = self.model.sample_latent(n, generator, labels=labels)
        prefix = (prefix or "").strip()
        prefix_ids = self.tokenizer.encode(prefix, add_special_tokens=False).ids if prefix else []
        ids = self.model.generate(
            z, max_len or self.max_len, temperature, top_p, generator, labels=labels, prefix=prefix_ids
        )
        if not prefix_ids or UNK_ID not in prefix_ids:
            return self.decode(ids)
        # The tokenizer could not spell the prefix: show it as typed, then the continuation.
        return [f"{prefix} {text}".strip() for text in self.decode([row[len(prefix_ids) :] for row in ids])]

    @torch.no_grad()
    def posterior_sample(
        self, texts: list[str], labels: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        tokens, lengths = self.encode(texts)
        mu, logvar = self.model.encode(tokens, lengths, labels)
        noise = torch.randn(mu.shape, generator=generator, device=mu.device)
        return mu + noise * (0.5 * logvar).exp()

    @torch.no_grad()
    def posterior_mean(self, texts: list[str], labels: torch.Tensor | None = None) -> torch.Tensor:
        tokens, lengths = self.encode(texts)
        mu, _ = self.model.encode(tokens, lengths, labels)
        return mu

    @torch.no_grad()
    def reconstruct(
        self, texts: list[str], max_len: int | None = None, label: str | list[str] | None = None
    ) -> list[str]:
        """Greedy decoding from the posterior mean of each sentence (given its label, for a conditional model)."""
        labels = self.label_tensor(label, len(texts))
        ids = self.model.generate(
            self.posterior_mean(texts, labels), max_len or self.max_len, greedy=True, labels=labels
        )
        return self.decode(ids)

    @torch.no_grad()
    def interpolate(
        self, start: str, end: str, steps: int = 5, max_len: int | None = None, label: str | None = None
    ) -> list[str]:
        """Greedy decodings along the straight line between two sentences' posterior means."""
        mu = self.posterior_mean([start, end], self.label_tensor(label, 2))
        weights = torch.linspace(0.0, 1.0, steps, device=self.device).unsqueeze(1)
        z = (1 - weights) * mu[0] + weights * mu[1]
        return self.decode(
            self.model.generate(z, max_len or self.max_len, greedy=True, labels=self.label_tensor(label, steps))
        )
