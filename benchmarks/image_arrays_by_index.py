"""Carry the image arrays to a machine that has the raw IDX files but too little room for 53 MB of arrays (the
device call takes 64 MiB with the tracked tree): `pack` writes, per split, where each image sits in the IDX files
(a few hundred KB); `unpack` rebuilds the very same uint8 arrays from the IDX files and checks them by hash.

    python benchmarks/image_arrays_by_index.py pack   data/images/arrays  /tmp/pack.npz
    python benchmarks/image_arrays_by_index.py unpack /tmp/pack.npz       data/images/arrays

Needs only numpy and pandas (the project's IDX reader).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.core.errors import StageError  # noqa: E402
from components.kinds.images.data.images import read_idx  # noqa: E402

SOURCES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")
SPLITS = ("train", "valid", "test")


def read_idx_images(path: Path) -> np.ndarray:
    """The IDX images as the arrays hold them: (N, 1, H, W) uint8, read by the ingest stage's own reader."""
    return read_idx(path)[:, None]


def digest(images: np.ndarray) -> str:
    """SHA-256 of the pixels, their shape and their type: the same bytes in another shape are other arrays."""
    h = hashlib.sha256(f"{images.dtype.str}{images.shape}".encode())
    h.update(np.ascontiguousarray(images).tobytes())
    return h.hexdigest()


def pack(arrays: Path, idx_dir: Path, out: Path) -> None:
    sources = [read_idx_images(idx_dir / name) for name in SOURCES]
    where = {}
    for s, images in enumerate(sources):
        for i, image in enumerate(images):
            where.setdefault(image.tobytes(), (s, i))
    packed = {"classes": np.array(json.dumps(json.loads((arrays / "classes.json").read_text())))}
    for split in SPLITS:
        images = np.load(arrays / f"{split}.images.npy")
        packed[f"{split}.where"] = np.array([where[image.tobytes()] for image in images], dtype=np.int32)
        packed[f"{split}.labels"] = np.load(arrays / f"{split}.labels.npy")
        packed[f"{split}.sha256"] = np.array(digest(images))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **packed)


def unpack(packed_file: Path, idx_dir: Path, arrays: Path) -> None:
    packed = np.load(packed_file)
    sources = [read_idx_images(idx_dir / name) for name in SOURCES]
    tmp = arrays.with_name(arrays.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:  # written beside the target, moved into place whole: a failure leaves neither half an arrays folder
        for split in SPLITS:
            where = packed[f"{split}.where"]
            images = np.stack([sources[s][i] for s, i in where]) if len(where) else np.zeros((0, 1, 28, 28), np.uint8)
            if digest(images) != str(packed[f"{split}.sha256"]):
                raise SystemExit(f"error: {split} images rebuilt from {idx_dir} differ from the packed arrays")
            np.save(tmp / f"{split}.images.npy", images)
            np.save(tmp / f"{split}.labels.npy", packed[f"{split}.labels"])
        (tmp / "classes.json").write_text(json.dumps(json.loads(str(packed["classes"])), indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(arrays, ignore_errors=True)
    tmp.rename(arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["pack", "unpack"])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--idx", type=Path, default=Path("data/raw/fashion-mnist"))
    args = parser.parse_args()
    try:
        if args.action == "pack":
            pack(args.source, args.idx, args.target)
        else:
            unpack(args.source, args.idx, args.target)
    except (
        StageError,
        OSError,
        ValueError,
        EOFError,
        IndexError,
        zipfile.BadZipFile,
    ) as err:  # missing, damaged, other
        raise SystemExit(f"error: {args.action} {args.source}: {err}") from None
    except KeyError as err:  # pack: an image in neither IDX file; unpack: not a file `pack` wrote
        what = (
            f"an image is in neither IDX file under {args.idx}"
            if args.action == "pack"
            else f"not written by `pack` (no {str(err)[:80]})"
        )
        raise SystemExit(f"error: {args.action} {args.source}: {what}") from None


if __name__ == "__main__":
    main()
