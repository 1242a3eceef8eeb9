"""Parallel tokenize stage: BPE trained on the train split only (one joint vocabulary or one per side), then
every split's sources and targets encoded as token arrays (`<split>.source.*`, `<split>.target.*`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.data.split import SPLITS
from components.data.tokenizer import SPECIAL_TOKENS, UNK, TokenizerOptions, encode, train_tokenizer
from components.kinds.translation.params import load_translation_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--splits", "--tokenizer-dir", "--out-dir", "--metrics"):
        parser.add_argument(flag, required=True)

    def run(args):
        p = load_translation_params(args.params, args.app).tokenize
        # Metaspace only (no punctuation split): decoding gives back the text as written, for sacreBLEU.
        bpe = TokenizerOptions(
            kind="bpe",
            vocab_size=p.vocab_size,
            min_frequency=p.min_frequency,
            lowercase=p.lowercase,
            pre_tokenizer="whitespace",
        )
        frame = pd.read_parquet(args.splits)
        train = frame[frame["split"] == "train"]
        if p.joint:
            joint = train_tokenizer(train["source"].tolist() + train["target"].tolist(), bpe)
            tokenizers = {"source": joint, "target": joint}
        else:
            tokenizers = {side: train_tokenizer(train[side].tolist(), bpe) for side in ("source", "target")}
        for side, tok in tokenizers.items():
            with atomic.atomic_path(Path(args.tokenizer_dir) / f"{side}.json") as tmp:
                tok.save(str(tmp))
        summary = {"joint": p.joint, **{f"{side}_vocab_size": tok.get_vocab_size() for side, tok in tokenizers.items()}}
        unk = SPECIAL_TOKENS.index(UNK)
        for split in SPLITS:
            rows = frame[frame["split"] == split]
            for side, tok in tokenizers.items():
                ids, offsets = encode(tok, rows[side].tolist())
                atomic.write_npy(Path(args.out_dir) / f"{split}.{side}.ids.npy", ids)
                atomic.write_npy(Path(args.out_dir) / f"{split}.{side}.offsets.npy", offsets)
                summary[f"{split}_{side}_tokens"] = int(len(ids))
                summary[f"{split}_{side}_unk_rate"] = float((ids == unk).mean()) if len(ids) else 0.0
            summary[f"{split}_pairs"] = len(rows)
        atomic.write_json(args.metrics, summary)
        log.info("tokenized: %s", summary)

    stage_main("tokenize", run, parser)


if __name__ == "__main__":
    main()
