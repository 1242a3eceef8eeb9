"""Translate raw text with a trained translation model directory (weights, config, both tokenizers).

What the served model, the generate command and tests call. Bad input is answered, not crashed on: an empty
or blank source translates to "", a source longer than the model's `max_positions` tokens is truncated
(with a warning naming the row), and characters the tokenizer never saw become <unk> tokens the model reads.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch
from tokenizers import Tokenizer

from components.kinds.translation.models.base import TranslationModel
from components.kinds.translation.models.factory import load_translation_model

log = logging.getLogger(__name__)

LENGTH_A, LENGTH_B = 1.5, 10
"""Longest output: 1.5 x source tokens + 10 (the shipped evaluate.max_length_a/_b)."""


class Translator:
    def __init__(self, model: TranslationModel, source: Tokenizer, target: Tokenizer, device: torch.device):
        self.model, self.source, self.target, self.device = model, source, target, device

    @classmethod
    def from_dir(cls, model_dir: str | Path, device: str = "cpu") -> Translator:
        model_dir = Path(model_dir)
        tokenizers = {
            side: Tokenizer.from_file(str(model_dir / f"tokenizer.{side}.json")) for side in ("source", "target")
        }
        return cls(
            load_translation_model(model_dir, device), tokenizers["source"], tokenizers["target"], torch.device(device)
        )

    def translate(
        self, texts: list[str], decoder: str | None = None, beam_size: int = 4, batch_size: int = 64
    ) -> tuple[list[str], list[int]]:
        """(translations in input order, the indices of rows whose source was truncated)."""
        decoder = decoder or self.model.default_decoder
        self.model.check_decoder(decoder)
        limit = self.model.config.max_positions
        ids = [
            e.ids
            for e in self.source.encode_batch(
                [t if isinstance(t, str) else "" for t in texts], add_special_tokens=False
            )
        ]
        truncated = [i for i, row in enumerate(ids) if len(row) > limit]
        for i in truncated:
            log.warning("row %d: source of %d tokens truncated to the model's %d", i, len(ids[i]), limit)
        out = [""] * len(texts)
        order = sorted((i for i, row in enumerate(ids) if row), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            rows = [ids[i][:limit] for i in index]
            width = max(len(r) for r in rows)
            src = torch.tensor([r + [0] * (width - len(r)) for r in rows], device=self.device)
            src_len = torch.tensor([len(r) for r in rows], device=self.device)
            max_len = torch.clamp((src_len * LENGTH_A).long() + LENGTH_B, max=limit)
            result = self.model.translate(src, src_len, decoder, max_len, beam_size)
            for i, text in zip(index, self.target.decode_batch(result, skip_special_tokens=True)):
                out[i] = text
        return out, truncated


def check_beam_size(value) -> int:
    if not isinstance(value, (int, float)) or math.isnan(value) or value != int(value) or not 1 <= value <= 64:
        raise ValueError(f"beam_size must be a whole number between 1 and 64, got {value!r}")
    return int(value)
