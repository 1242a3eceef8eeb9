"""Tokenize stage: train the tokenizer on the train split only, then encode every split.

The tokenizer and the token-array layout: components/data/tokenizer.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.core.errors import StageError
from components.data.split import SPLITS
from components.data.tokenizer import SPECIAL_TOKENS, UNK, encode, train_tokenizer
from components.kinds.text.base_model import TOKENIZER_FILE, check_base
from components.kinds.text.data.labels import UNLABELLED, UNSEEN, encode_labels, label_vocabulary, write_labels
from components.kinds.text.params import load_params

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--splits", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--metrics", required=True)
    parser.add_argument("--labels", help="label vocabulary to write (applications with data.require_label)")
    parser.add_argument("--base", help="base/<application>: its tokenizer is adopted when train.init_from is set")

    def run(args):
        params = load_params(args.params, args.app)
        p = params.tokenize
        frame = pd.read_parquet(args.splits)
        base = check_base(Path(args.base), params.train.init_from) if args.base else None
        if base is not None:  # fine-tuning: the base model's token ids, whatever tokenize.* says
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(Path(args.base) / TOKENIZER_FILE))
            log.info("adopted the tokenizer of %s v%s (train.init_from)", base["name"], base["version"])
        else:
            tok = train_tokenizer(frame.loc[frame["split"] == "train", "text"].tolist(), p)
        labelled = params.data.require_label or params.model.conditional
        if labelled and not args.labels:
            raise StageError(
                "a labelled application (data.require_label or model.conditional): pass --labels to "
                "write the label vocabulary"
            )
        vocabulary = label_vocabulary(frame.loc[frame["split"] == "train", "label"].tolist()) if labelled else None
        with atomic.atomic_path(args.tokenizer) as tmp:
            tok.save(str(tmp))
        if labelled:
            write_labels(args.labels, vocabulary)
        out_dir = Path(args.out_dir)
        summary = {
            "vocab_size": tok.get_vocab_size(),
            "adopted_from": f"{base['name']} v{base['version']}" if base else "",
        } | ({"labels": len(vocabulary)} if labelled else {})
        for split in SPLITS:
            rows = frame.loc[frame["split"] == split]
            if labelled:
                labels = encode_labels(rows["label"].tolist(), vocabulary)
                # A label train never saw cannot be asked for: its rows stay in the splits table but not here.
                summary[f"{split}_rows_with_unseen_label"] = int((labels == UNSEEN).sum())
                # Rows without a label train the unconditional part; valid and test score labelled rows only.
                summary[f"{split}_rows_unlabelled"] = int((labels == UNLABELLED).sum())
                keep = (labels != UNSEEN) & ((labels != UNLABELLED) | (split == "train"))
                rows, labels = rows[keep], labels[keep]
                atomic.write_npy(out_dir / f"{split}.labels.npy", labels)
            ids, offsets = encode(tok, rows["text"].tolist())
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
