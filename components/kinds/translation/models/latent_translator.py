"""The VQ latent translator: the discrete latent Transformer of Kaiser et al. 2018 ("Fast Decoding in Sequence
Models Using Discrete Latent Variables"), with the EMA codebook of Roy et al. 2018.

Training autoencodes the target, given the source: a non-causal Transformer reads the target (and the source),
every `compression` positions are folded into one vector, and each vector is replaced by its nearest code in an
EMA codebook (the VQVAE-LM's quantiser). A parallel decoder unfolds each code back into `compression`
positions and predicts all target tokens at once, reading the source. A causal Transformer prior learns to
predict the code sequence from the source, ending it with an end symbol (the codes are detached: the prior
fits the autoencoder, not the other way round).

Translating: encode the source, let the prior write the short code sequence (greedy, one code per step with a
key/value cache), then decode every target token in one parallel pass and cut at the first end token. The
sequential steps fall by the compression factor; that is where the speed comes from.
"""

from __future__ import annotations

import torch
from torch import nn

from components.data.batches import EOS_ID, PAD_ID
from components.kinds.translation.models.base import TranslationConfig, TranslationLoss, TranslationModel
from components.kinds.translation.models.seq2seq_blocks import (
    Decoder,
    Embeddings,
    SourceEncoder,
    key_mask,
    smoothed_nll,
)
from components.models.codebook import EMACodebook


class LatentTranslator(TranslationModel):
    family = "latent"
    decoders = ("latent",)
    default_decoder = "latent"

    def __init__(self, config: TranslationConfig):
        super().__init__(config)
        c = config
        self.c, self.k = c.compression, c.codebook_size
        self.code_bos, self.code_end = c.codebook_size, c.codebook_size + 1
        src_embed = Embeddings(c.src_vocab, c.d_model, c.max_positions + 2, c.dropout)
        self.tgt_embed = Embeddings(c.tgt_vocab, c.d_model, c.max_positions + c.compression + 2, c.dropout)
        if c.shared_vocab:
            src_embed.tokens = self.tgt_embed.tokens
        self.encoder = SourceEncoder(src_embed, c.d_model, c.heads, c.ff_dim, c.encoder_layers, c.dropout)
        self.target_encoder = Decoder(c.d_model, c.heads, c.ff_dim, c.decoder_layers, c.dropout, causal=False)
        self.fold = nn.Linear(c.compression * c.d_model, c.d_model)
        self.codebook = EMACodebook(
            c.codebook_size, c.d_model, decay=c.ema_decay, dead_code_threshold=c.dead_code_threshold, init="data"
        )
        self.unfold = nn.Linear(c.d_model, c.compression * c.d_model)
        self.positions = nn.Embedding(c.max_positions + c.compression + 2, c.d_model)
        self.decoder = Decoder(c.d_model, c.heads, c.ff_dim, c.decoder_layers, c.dropout, causal=False)
        self.out = nn.Linear(c.d_model, c.tgt_vocab, bias=False)
        self.out.weight = self.tgt_embed.tokens.weight
        max_codes = -(-(c.max_positions + 1) // c.compression)
        self.code_embed = Embeddings(c.codebook_size + 2, c.d_model, max_codes + 2, c.dropout)
        self.prior = Decoder(c.d_model, c.heads, c.ff_dim, c.prior_layers, c.dropout, causal=True)
        self.prior_head = nn.Linear(c.d_model, c.codebook_size + 2)

    def code_count(self, tgt_len: torch.Tensor) -> torch.Tensor:
        """Codes per target: ceil((T + 1) / compression), the end token included."""
        return (tgt_len + 1 + self.c - 1) // self.c

    def forward(self, src, src_len, tgt, tgt_len, smoothing: float = 0.0) -> TranslationLoss:
        encoding, mask = self.encoder(src, src_len)
        batch = src.shape[0]
        # 1. autoencode: read the target (end token included) given the source, fold into codes
        targets, m, folded = self._fold_target(tgt, tgt_len, encoding, mask)
        width = targets.shape[1]
        valid = torch.arange(folded.shape[1], device=tgt.device)[None, :] < m[:, None]
        q = self.codebook(folded[valid])
        quantized = torch.zeros_like(folded).masked_scatter(valid.unsqueeze(-1), q.quantized.to(folded.dtype))
        codes = torch.full(valid.shape, self.code_end, dtype=torch.long, device=tgt.device).masked_scatter(
            valid, q.codes
        )
        # 2. decode every target token at once from the codes and the source
        logits = self._decode(quantized, m, encoding, mask)
        scored = targets.masked_fill(torch.arange(width, device=tgt.device)[None, :] > tgt_len[:, None], PAD_ID)
        rec = smoothed_nll(logits, scored, smoothing, PAD_ID)
        # 3. the prior: codes from the source, then the end symbol
        prior_in = torch.cat([torch.full((batch, 1), self.code_bos, device=tgt.device, dtype=torch.long), codes], 1)
        prior_target = torch.cat([codes, torch.full((batch, 1), PAD_ID, device=tgt.device, dtype=torch.long)], 1)
        prior_target = prior_target.masked_fill(
            torch.arange(prior_target.shape[1], device=tgt.device)[None, :] > m[:, None], -1
        )
        prior_target.scatter_(1, m.unsqueeze(1), self.code_end)
        hidden = self.prior(self.code_embed(prior_in), self.prior.memory(encoding), mask)
        prior = smoothed_nll(self.prior_head(hidden), prior_target, 0.0, -1)
        commitment = self.config.commitment * q.commitment.mean() if q.commitment.numel() else folded.sum() * 0
        return TranslationLoss(rec=rec, tokens=int((tgt_len + 1).sum()), prior=prior, aux=commitment, codes=q.codes)

    def _fold_target(self, tgt, tgt_len, encoding, mask) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The target padded to whole codes with its end token, the code count per row, and the folded vectors
        (one per `compression` positions) that the codebook quantises."""
        batch = tgt.shape[0]
        m = self.code_count(tgt_len)
        width = int(m.max()) * self.c
        targets = torch.full((batch, width), PAD_ID, dtype=torch.long, device=tgt.device)
        targets[:, : tgt.shape[1]] = tgt[:, :width]
        targets.scatter_(1, tgt_len.unsqueeze(1), EOS_ID)
        read = self.target_encoder(
            self.tgt_embed(targets), self.target_encoder.memory(encoding), mask, self_mask=key_mask(tgt_len + 1, width)
        )
        return targets, m, self.fold(read.reshape(batch, width // self.c, self.c * read.shape[-1]))

    def _decode(self, quantized: torch.Tensor, m: torch.Tensor, encoding, mask) -> torch.Tensor:
        batch, codes, d = quantized.shape
        x = self.unfold(quantized).reshape(batch, codes * self.c, d)
        x = x + self.positions(torch.arange(codes * self.c, device=x.device))
        hidden = self.decoder(x, self.decoder.memory(encoding), mask, self_mask=key_mask(m * self.c, codes * self.c))
        return self.out(hidden)

    @torch.no_grad()
    def decode_reference_codes(self, src, src_len, tgt, tgt_len) -> list[list[int]]:
        """Target ids decoded from the codes the autoencoder gives the *reference* (not the prior's): the BLEU of
        these is what a perfect prior would reach, so it splits the latent model's error between its
        autoencoder and its prior."""
        encoding, mask = self.encoder(src, src_len)
        _, m, folded = self._fold_target(tgt, tgt_len, encoding, mask)
        codes = self.codebook.nearest(folded.reshape(-1, folded.shape[-1]).float()).view(folded.shape[:2])
        ids = self._decode(self.codebook.lookup(codes).to(encoding.dtype), m, encoding, mask).argmax(-1)
        return self._cut(ids, m)

    @torch.no_grad()
    def translate(self, src, src_len, decoder: str, max_len: torch.Tensor, beam_size: int = 4) -> list[list[int]]:
        self.check_decoder(decoder)
        encoding, mask = self.encoder(src, src_len)
        batch, device = src.shape[0], src.device
        max_codes = self.code_count(max_len)
        memory = self.prior.memory(encoding)
        caches = [{} for _ in self.prior.layers]
        token = torch.full((batch, 1), self.code_bos, dtype=torch.long, device=device)
        done = torch.zeros(batch, dtype=torch.bool, device=device)
        m = max_codes.clone()
        codes = []
        for step in range(int(max_codes.max()) + 1):
            hidden = self.prior(self.code_embed(token, start=step), memory, mask, caches=caches)
            logits = self.prior_head(hidden[:, -1]).float()
            logits[:, self.code_bos] = -torch.inf
            if step == 0:
                logits[:, self.code_end] = -torch.inf  # at least one code
            nxt = logits.argmax(-1)
            nxt = torch.where(step >= max_codes, torch.full_like(nxt, self.code_end), nxt)
            ended = (nxt == self.code_end) & ~done
            m = torch.where(ended, torch.full_like(m, step), m)
            done |= ended
            codes.append(nxt.masked_fill(done, 0))
            if bool(done.all()):
                break
            token = nxt.unsqueeze(1)
        codes = torch.stack(codes, 1)[:, : int(m.max())]
        quantized = self.codebook.lookup(codes).to(encoding.dtype)
        return self._cut(self._decode(quantized, m, encoding, mask).argmax(-1), m)

    def _cut(self, ids: torch.Tensor, m: torch.Tensor) -> list[list[int]]:
        """Each row up to its codes' positions and its first end token, padding dropped."""
        out = []
        for row, limit in zip(ids.tolist(), (m * self.c).tolist()):
            row = row[:limit]
            row = row[: row.index(EOS_ID)] if EOS_ID in row else row
            out.append([t for t in row if t != PAD_ID])
        return out
