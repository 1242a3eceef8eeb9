"""Tokenize stage: train a HuggingFace tokenizer on the train split only, then encode every split.

Encoded splits are stored as one flat token array plus offsets per split (CSR layout),
which the trainer memory-maps: no per-sentence Python objects on the training path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from components.core.errors import StageError

log = logging.getLogger(__name__)

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIAL_TOKENS = [PAD, UNK, BOS, EOS]  # ids 0..3 in this order


@dataclass(frozen=True)
class TokenizerOptions:
    """What a tokenizer is trained with: a text application's tokenize section has these fields, and the
    translation kind fills one from its own."""

    kind: str
    """word or bpe."""
    vocab_size: int
    min_frequency: int
    lowercase: bool
    pre_tokenizer: str
    """punct or whitespace."""


def build_tokenizer(p: TokenizerOptions) -> tuple[Tokenizer, trainers.Trainer]:
    norm = [normalizers.NFKC()] + ([normalizers.Lowercase()] if p.lowercase else [])
    if p.kind == "word":
        tok = Tokenizer(models.WordLevel(unk_token=UNK))
        tok.pre_tokenizer = (
            pre_tokenizers.Whitespace() if p.pre_tokenizer == "punct" else pre_tokenizers.WhitespaceSplit()
        )
        trainer = trainers.WordLevelTrainer(
            vocab_size=p.vocab_size, min_frequency=p.min_frequency, special_tokens=SPECIAL_TOKENS
        )
    else:
        tok = Tokenizer(models.BPE(unk_token=UNK))
        splits = [pre_tokenizers.Punctuation()] if p.pre_tokenizer == "punct" else []
        tok.pre_tokenizer = pre_tokenizers.Sequence(splits + [pre_tokenizers.Metaspace()])
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(
            vocab_size=p.vocab_size, min_frequency=p.min_frequency, special_tokens=SPECIAL_TOKENS
        )
    tok.normalizer = normalizers.Sequence(norm)
    return tok, trainer


def train_tokenizer(train_texts: list[str], p: TokenizerOptions) -> Tokenizer:
    """Fit the vocabulary on the train split; valid/test never leak into it."""
    if not train_texts:
        raise StageError("train split is empty: nothing to train the tokenizer on")
    tok, trainer = build_tokenizer(p)
    # Registered before training so a literal "<unk>" in the text (PTB has many) is the special token.
    tok.add_special_tokens(SPECIAL_TOKENS)
    tok.train_from_iterator(train_texts, trainer=trainer, length=len(train_texts))
    for index, token in enumerate(SPECIAL_TOKENS):
        if tok.token_to_id(token) != index:
            raise StageError(f"tokenizer put special token {token} at id {tok.token_to_id(token)}, expected {index}")
    return tok


def encode(tok: Tokenizer, texts: list[str], chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """Encode with the library's batch API; return (flat ids, offsets) with offsets[i]:offsets[i+1] for sentence i.

    Chunks bound memory: a million Encoding objects at once cost gigabytes, one chunk's worth does not.
    """
    dtype = np.uint16 if tok.get_vocab_size() <= np.iinfo(np.uint16).max else np.int32
    id_parts, length_parts = [], []
    for start in range(0, len(texts), chunk):
        encodings = tok.encode_batch(texts[start : start + chunk], add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        id_parts.append(np.fromiter((i for e in encodings for i in e.ids), dtype=dtype, count=int(lengths.sum())))
        length_parts.append(lengths)
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=dtype)
    return ids, offsets
