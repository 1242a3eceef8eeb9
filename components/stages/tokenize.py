"""Tokenize stage: train the tokenizer on the train split only, then encode every split.

The tokenizer and the token-array layout: components/data/tokenizer.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.params import load_params
from components.data.split import SPLITS
from components.data.tokenizer import SPECIAL_TOKENS, UNK, encode, train_tokenizer

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--metrics", required=True)

    def run(args):
        p = load_params(args.params, args.app).tokenize
        frame = pd.read_parquet(args.splits)
        tok = train_tokenizer(frame.loc[frame["split"] == "train", "text"].tolist(), p)
        with atomic.atomic_path(args.tokenizer) as tmp:
            tok.save(str(tmp))
        out_dir = Path(args.out_dir)
        summary = {"vocab_size": tok.get_vocab_size()}
        for split in SPLITS:
            ids, offsets = encode(tok, frame.loc[frame["split"] == split, "text"].tolist())
            atomic.write_npy(out_dir / f"{split}.ids.npy", ids)
            atomic.write_npy(out_dir / f"{split}.offsets.npy", offsets)
            summary[f"{split}_sentences"] = len(offsets) - 1
            summary[f"{split}_tokens"] = int(len(ids))
            summary[f"{split}_unk_rate"] = float((ids == SPECIAL_TOKENS.index(UNK)).mean()) if len(ids) else 0.0
        atomic.write_json(args.metrics, summary)
        log.info("tokenizer %s: %s", p.kind, summary)

    stage_main("tokenize", run, parser)


if __name__ == "__main__":
    main()
