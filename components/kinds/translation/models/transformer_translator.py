"""The autoregressive baseline: a Transformer encoder-decoder (Vaswani et al. 2017) with greedy and beam decoding.

Target tokens come one at a time, each step reading the source and every token before it; the decoder caches
its keys and values, so a step costs one position. Beam search keeps `beam_size` hypotheses per sentence and
ranks finished ones by length-normalised log-probability (GNMT's penalty, alpha 0.6).
"""

from __future__ import annotations

import torch
from torch import nn

from components.data.batches import BOS_ID, EOS_ID, PAD_ID, with_bos_eos
from components.kinds.translation.models.base import TranslationConfig, TranslationLoss, TranslationModel
from components.kinds.translation.models.seq2seq_blocks import Decoder, Embeddings, SourceEncoder, smoothed_nll

LENGTH_PENALTY_ALPHA = 0.6


class TransformerTranslator(TranslationModel):
    family = "transformer"
    decoders = ("greedy", "beam")
    default_decoder = "beam"

    def __init__(self, config: TranslationConfig):
        super().__init__(config)
        c = config
        src_embed = Embeddings(c.src_vocab, c.d_model, c.max_positions + 2, c.dropout)
        self.tgt_embed = Embeddings(c.tgt_vocab, c.d_model, c.max_positions + 2, c.dropout)
        if c.shared_vocab:
            src_embed.tokens = self.tgt_embed.tokens
        self.encoder = SourceEncoder(src_embed, c.d_model, c.heads, c.ff_dim, c.encoder_layers, c.dropout)
        self.decoder = Decoder(c.d_model, c.heads, c.ff_dim, c.decoder_layers, c.dropout, causal=True)
        self.out = nn.Linear(c.d_model, c.tgt_vocab, bias=False)
        self.out.weight = self.tgt_embed.tokens.weight  # tied output embedding (Press & Wolf 2017)

    def forward(self, src, src_len, tgt, tgt_len, smoothing: float = 0.0) -> TranslationLoss:
        encoding, mask = self.encoder(src, src_len)
        inputs, targets = with_bos_eos(tgt, tgt_len)
        hidden = self.decoder(self.tgt_embed(inputs), self.decoder.memory(encoding), mask)
        return TranslationLoss(
            rec=smoothed_nll(self.out(hidden), targets, smoothing, PAD_ID), tokens=int((targets != PAD_ID).sum())
        )

    @torch.no_grad()
    def translate(self, src, src_len, decoder: str, max_len: torch.Tensor, beam_size: int = 4) -> list[list[int]]:
        self.check_decoder(decoder)
        encoding, mask = self.encoder(src, src_len)
        if decoder == "greedy" or beam_size == 1:
            return self._greedy(encoding, mask, max_len)
        return self._beam(encoding, mask, max_len, beam_size)

    def _step(self, token: torch.Tensor, position: int, memory, mask, caches) -> torch.Tensor:
        hidden = self.decoder(self.tgt_embed(token, start=position), memory, mask, caches=caches)
        return torch.log_softmax(self.out(hidden[:, -1]).float(), dim=-1)

    def _greedy(self, encoding, mask, max_len) -> list[list[int]]:
        batch = encoding.shape[0]
        memory = self.decoder.memory(encoding)
        caches = [{} for _ in self.decoder.layers]
        token = torch.full((batch, 1), BOS_ID, dtype=torch.long, device=encoding.device)
        done = torch.zeros(batch, dtype=torch.bool, device=encoding.device)
        out = []
        for position in range(int(max_len.max()) + 1):
            logp = self._step(token, position, memory, mask, caches)
            logp[:, [PAD_ID, BOS_ID]] = -torch.inf
            nxt = logp.argmax(dim=-1).masked_fill(done, PAD_ID)
            nxt = torch.where((position >= max_len) & ~done, torch.full_like(nxt, EOS_ID), nxt)
            out.append(nxt)
            done |= nxt == EOS_ID
            if bool(done.all()):
                break
            token = nxt.unsqueeze(1)
        return [row[: row.index(EOS_ID)] if EOS_ID in row else row for row in torch.stack(out, 1).tolist()]

    def _beam(self, encoding, mask, max_len, k: int) -> list[list[int]]:
        batch, device = encoding.shape[0], encoding.device
        expand = torch.arange(batch, device=device).repeat_interleave(k)
        memory = [(key[expand], value[expand]) for key, value in self.decoder.memory(encoding)]
        mask, limit = mask[expand], max_len[expand]
        caches = [{} for _ in self.decoder.layers]
        scores = torch.full((batch, k), -torch.inf, device=device)
        scores[:, 0] = 0.0  # all beams start identical: keep one alive so the first step does not repeat it k times
        scores = scores.view(-1)
        tokens = torch.full((batch * k, 1), BOS_ID, dtype=torch.long, device=device)
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]
        for position in range(int(max_len.max()) + 1):
            logp = self._step(tokens[:, -1:], position, memory, mask, caches)
            logp[:, [PAD_ID, BOS_ID]] = -torch.inf
            forced = position >= limit  # out of room: only the end token
            logp[forced] = torch.where(torch.arange(logp.shape[1], device=device) == EOS_ID, 0.0, -torch.inf)
            vocab = logp.shape[1]
            total = (scores[:, None] + logp).view(batch, k * vocab)
            top, index = total.topk(2 * k, dim=1)
            beam, token = index // vocab, index % vocab
            new_scores = torch.full((batch, k), -torch.inf, device=device)
            new_origin = torch.zeros((batch, k), dtype=torch.long, device=device)
            new_token = torch.full((batch, k), PAD_ID, dtype=torch.long, device=device)
            top_l, beam_l, token_l = top.tolist(), beam.tolist(), token.tolist()
            for b in range(batch):
                filled = 0
                for score, origin, tok in zip(top_l[b], beam_l[b], token_l[b]):
                    if score == -float("inf") or filled == k:
                        break
                    if tok == EOS_ID:
                        if len(finished[b]) < k:
                            hyp = tokens[b * k + origin, 1:].tolist()
                            finished[b].append((score / _length_penalty(len(hyp) + 1), hyp))
                        continue
                    new_scores[b, filled], new_origin[b, filled], new_token[b, filled] = score, origin, tok
                    filled += 1
                if len(finished[b]) >= k:
                    new_scores[b] = -torch.inf  # this sentence is done
            if bool(torch.isinf(new_scores).all()):
                break
            rows = (torch.arange(batch, device=device)[:, None] * k + new_origin).view(-1)
            tokens = torch.cat([tokens[rows], new_token.view(-1, 1)], dim=1)
            scores = new_scores.view(-1)
            for cache in caches:
                cache["k"], cache["v"] = cache["k"][rows], cache["v"][rows]
        results = []
        for b in range(batch):
            if not finished[b]:  # nothing ended inside the limit: the best unfinished hypothesis
                best = int(scores.view(batch, k)[b].argmax())
                finished[b].append((0.0, tokens[b * k + best, 1:].tolist()))
            results.append([t for t in max(finished[b], key=lambda item: item[0])[1] if t != PAD_ID])
        return results


def _length_penalty(length: int) -> float:
    return ((5 + length) / 6) ** LENGTH_PENALTY_ALPHA
