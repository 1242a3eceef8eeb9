"""Text in, text out: a trained model plus its tokenizer, as used by evaluation reports and the served model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from components.data.batches import TokenArrays, pad_batch
from components.models.store import load_model


class TextGenerator:
    """Sample, reconstruct and interpolate sentences with a latent model."""

    def __init__(self, model: torch.nn.Module, tokenizer: Tokenizer, max_len: int = 48):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.device = next(model.parameters()).device

    @classmethod
    def from_files(cls, model_dir: str | Path, tokenizer_path: str | Path, device: str = "cpu") -> "TextGenerator":
        tokenizer_path = Path(tokenizer_path)
        if not tokenizer_path.is_file():
            raise FileNotFoundError(f"{tokenizer_path}: tokenizer file not found")
        return cls(load_model(model_dir, device), Tokenizer.from_file(str(tokenizer_path)))

    def decode(self, rows: list[list[int]]) -> list[str]:
        # <unk> stays visible: hiding it would make reconstructions look worse-formed than they are.
        return self.tokenizer.decode_batch(rows, skip_special_tokens=False)

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]
        offsets = np.concatenate([[0], np.cumsum([len(i) for i in ids])]).astype(np.int64)
        flat = np.fromiter((t for row in ids for t in row), dtype=np.int64, count=int(offsets[-1]))
        tokens, lengths = pad_batch(TokenArrays(flat, offsets), np.arange(len(ids)), self.max_len)
        return tokens.to(self.device), lengths.to(self.device)

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, top_p: float = 0.9, max_len: int | None = None,
               seed: int | None = None) -> list[str]:
        """n sentences decoded from z drawn from the model's prior."""
        generator = torch.Generator(device=self.device)
        generator.manual_seed(seed if seed is not None else torch.seed())
        z = self.model.sample_latent(n, generator)
        ids = self.model.generate(z, max_len or self.max_len, temperature, top_p, generator)
        return self.decode(ids)

    @torch.no_grad()
    def posterior_mean(self, texts: list[str]) -> torch.Tensor:
        tokens, lengths = self.encode(texts)
        mu, _ = self.model.encode(tokens, lengths)
        return mu

    @torch.no_grad()
    def reconstruct(self, texts: list[str], max_len: int | None = None) -> list[str]:
        """Greedy decoding from the posterior mean of each sentence."""
        ids = self.model.generate(self.posterior_mean(texts), max_len or self.max_len, greedy=True)
        return self.decode(ids)

    @torch.no_grad()
    def interpolate(self, start: str, end: str, steps: int = 5, max_len: int | None = None) -> list[str]:
        """Greedy decodings along the straight line between two sentences' posterior means."""
        mu = self.posterior_mean([start, end])
        weights = torch.linspace(0.0, 1.0, steps, device=self.device).unsqueeze(1)
        z = (1 - weights) * mu[0] + weights * mu[1]
        return self.decode(self.model.generate(z, max_len or self.max_len, greedy=True))
