"""benchmarks/image_arrays_by_index.py: the arrays a device call rebuilds from the IDX files must be the very
arrays packed here, and a mismatch must be an error, not a silently different benchmark."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_idx

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("image_arrays_by_index", ROOT / "benchmarks/image_arrays_by_index.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


@pytest.fixture
def workspace(tmp_path):
    """A slice of the shipped Fashion-MNIST (40 train, 20 test images) and arrays that reorder it into splits."""
    raw = ROOT / "data/raw/fashion-mnist"
    train = tool.read_idx_images(raw / "train-images-idx3-ubyte.gz")[:40].copy()
    test = tool.read_idx_images(raw / "t10k-images-idx3-ubyte.gz")[:20].copy()
    idx = tmp_path / "idx"
    idx.mkdir()
    write_idx(idx / tool.SOURCES[0], train[:, 0])
    write_idx(idx / tool.SOURCES[1], test[:, 0])
    arrays = tmp_path / "arrays"
    arrays.mkdir()
    order = np.random.default_rng(0).permutation(40)
    for split, images in {"train": train[order[:30]], "valid": train[order[30:]], "test": test}.items():
        np.save(arrays / f"{split}.images.npy", images)
        np.save(arrays / f"{split}.labels.npy", np.arange(len(images)) % 10)
    (arrays / "classes.json").write_text(json.dumps([str(i) for i in range(10)]))
    return tmp_path, idx, arrays


def test_unpack_rebuilds_the_packed_arrays(workspace):
    tmp, idx, arrays = workspace
    tool.pack(arrays, idx, tmp / "pack.npz")
    tool.unpack(tmp / "pack.npz", idx, tmp / "rebuilt")
    for split in tool.SPLITS:
        for kind in ("images", "labels"):
            assert np.array_equal(np.load(arrays / f"{split}.{kind}.npy"), np.load(tmp / f"rebuilt/{split}.{kind}.npy"))
    assert json.loads((tmp / "rebuilt/classes.json").read_text()) == [str(i) for i in range(10)]


def test_other_idx_files_are_refused_and_leave_no_arrays(workspace):
    tmp, idx, arrays = workspace
    tool.pack(arrays, idx, tmp / "pack.npz")
    changed = tool.read_idx_images(idx / tool.SOURCES[1]).copy()
    changed[0, 0, 0, 0] ^= 1
    write_idx(idx / tool.SOURCES[1], changed[:, 0])
    with pytest.raises(SystemExit, match="test images rebuilt"):
        tool.unpack(tmp / "pack.npz", idx, tmp / "rebuilt")
    assert not (tmp / "rebuilt").exists() and not (tmp / "rebuilt.tmp").exists()
