"""Image corpora: reading IDX files, folders of PNG/JPEG and NPZ archives into one table; the image contracts;
splits; and the dataset checks.

Canonical table: id, label, split (provided or None), source, height, width, channels, pixels (raw uint8 bytes,
row-major H x W x C; None when the file did not decode), error. Nothing is dropped or repaired on reading: an
undecodable file keeps its row with the reason in `error`, so the contracts quarantine it and
images in = kept + quarantined.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd

from components.core.errors import StageError
from components.data.split import hash_unit
from components.data.split_balance import distribution_shift_p, shift_p_value
from components.kinds.images.params import ImageDataParams, ImageDatasetParams, ImageValidateParams

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
COLUMNS = ["id", "label", "split", "source", "height", "width", "channels", "pixels", "error"]
HISTOGRAM_BINS = 16


# --- reading ---------------------------------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    """An IDX array (LeCun's MNIST format: magic, dimensions, then uint8 data), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        raise StageError(f"{path}: cannot read: {err}") from err
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise StageError(f"{path}: not an IDX file of unsigned bytes (magic {raw[:4].hex()})")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise StageError(f"{path}: IDX header says {shape} ({int(np.prod(shape))} bytes) but {data.size} follow")
    return data.reshape(shape)


def _idx_file(directory: Path, prefix: str, kind: str) -> Path | None:
    for name in (f"{prefix}-{kind}", f"{prefix}-{kind}.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _rows(
    images: list[np.ndarray | None], labels: list, split, source: str, ids: list[str], errors: list[str | None]
) -> pd.DataFrame:
    shapes = [img.shape if img is not None else (0, 0, 0) for img in images]
    return pd.DataFrame(
        {
            "id": ids,
            "label": [None if lab is None else str(lab) for lab in labels],
            "split": split,
            "source": source,
            "height": [s[0] for s in shapes],
            "width": [s[1] for s in shapes],
            "channels": [s[2] for s in shapes],
            "pixels": [None if img is None else np.ascontiguousarray(img).tobytes() for img in images],
            "error": errors,
        }
    )


def read_images(p: ImageDataParams) -> pd.DataFrame:
    root = Path(p.corpus)
    if not root.exists():
        raise StageError(f"{root}: image corpus not found")
    fmt = p.format
    if fmt == "auto":
        fmt = (
            "npz"
            if root.suffix == ".npz"
            else "idx"
            if root.is_dir() and any(root.glob("*-images-idx3-ubyte*"))
            else "folder"
        )
    frames = [_read_idx_dir(root, p) if fmt == "idx" else _read_npz(root) if fmt == "npz" else _read_folder(root)]
    frame = pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise StageError(f"{root}: corpus is empty (no images)")
    return frame[COLUMNS].astype(
        {"id": "string", "label": "string", "split": "string", "source": "string", "error": "string"}
    )


def _read_idx_dir(root: Path, p: ImageDataParams) -> pd.DataFrame:
    frames = []
    for split, prefix in p.idx_splits.items():
        images_path, labels_path = (
            _idx_file(root, prefix, "images-idx3-ubyte"),
            _idx_file(root, prefix, "labels-idx1-ubyte"),
        )
        if images_path is None:
            continue
        images = read_idx(images_path)
        if images.ndim != 3:
            raise StageError(f"{images_path}: expected N x H x W images, got shape {images.shape}")
        labels = read_idx(labels_path) if labels_path else None
        if labels is not None and len(labels) != len(images):
            raise StageError(f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels")
        n = len(images)
        frames.append(
            _rows(
                [img[:, :, None] for img in images],
                list(labels) if labels is not None else [None] * n,
                None if split == "none" else split,
                images_path.name,
                [f"{prefix}:{i}" for i in range(n)],
                [None] * n,
            )
        )
    if not frames:
        raise StageError(
            f"{root}: no IDX images ({', '.join(f'{v}-images-idx3-ubyte[.gz]' for v in p.idx_splits.values())})"
        )
    return pd.concat(frames, ignore_index=True)


def _read_npz(path: Path) -> pd.DataFrame:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise StageError(f"{path}: not a readable .npz: {err}") from err
    if "images" not in archive:
        raise StageError(f"{path}: no array 'images' (has {sorted(archive.files)})")
    images = archive["images"]
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise StageError(f"{path}: 'images' must be N x H x W [x C], got shape {images.shape}")
    errors: list[str | None] = [None] * len(images)
    out: list[np.ndarray | None] = []
    for i, img in enumerate(images):
        if not np.issubdtype(img.dtype, np.number) or not np.isfinite(img).all() or img.min() < 0 or img.max() > 255:
            errors[i], img = "pixel_range: values outside 0-255", None
        out.append(None if img is None else img.astype(np.uint8))
    labels = list(archive["labels"]) if "labels" in archive else [None] * len(images)
    return _rows(out, labels, None, path.name, [f"{path.name}:{i}" for i in range(len(images))], errors)


def _read_folder(root: Path) -> pd.DataFrame:
    from PIL import Image, UnidentifiedImageError

    files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise StageError(f"{root}: no PNG or JPEG files")
    images, labels, errors = [], [], []
    for f in files:
        labels.append(f.parent.name if f.parent != root else None)
        try:
            with Image.open(f) as im:
                im.load()
                arr = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im)
            images.append(arr[:, :, None] if arr.ndim == 2 else arr)
            errors.append(None)
        except (UnidentifiedImageError, OSError, ValueError) as err:
            images.append(None)
            errors.append(f"decode: {type(err).__name__}: {err}"[:200])
    ids = [str(f.relative_to(root)) for f in files]
    return _rows(images, labels, None, root.name, ids, errors)


# --- contracts -----------------------------------------------------------------------------
def pixels_of(row) -> np.ndarray:
    return np.frombuffer(row["pixels"], dtype=np.uint8).reshape(
        int(row["height"]), int(row["width"]), int(row["channels"])
    )


def conform(frame: pd.DataFrame, p: ImageValidateParams) -> pd.DataFrame:
    """With validate.on_other_size: resize, images of another height/width resized (bilinear) to the expected size."""
    if p.on_other_size != "resize":
        return frame
    from PIL import Image

    out = frame.copy()
    for i, row in out.iterrows():
        if row["pixels"] is None or pd.isna(row["height"]) or (row["height"], row["width"]) == (p.height, p.width):
            continue
        img = pixels_of(row)
        resized = np.asarray(
            Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img).resize((p.width, p.height), Image.BILINEAR)
        )
        resized = resized[:, :, None] if resized.ndim == 2 else resized
        out.at[i, "pixels"], out.at[i, "height"], out.at[i, "width"] = resized.tobytes(), p.height, p.width
    return out


def image_violations(frame: pd.DataFrame, p: ImageValidateParams) -> pd.Series:
    """The first broken contract of each image (None where all hold): decodes, channels, size, not constant."""
    reasons = []
    for _, row in frame.iterrows():
        if isinstance(row["error"], str):
            reasons.append(
                row["error"].split(":")[0] if row["error"].startswith("pixel_range") else f"decodes: {row['error']}"
            )
        elif row["pixels"] is None:
            reasons.append("decodes: no pixels")
        elif int(row["channels"]) != p.channels:
            reasons.append(f"channels: {int(row['channels'])}, expected {p.channels}")
        elif (int(row["height"]), int(row["width"])) != (p.height, p.width):
            reasons.append(f"size: {int(row['height'])}x{int(row['width'])}, expected {p.height}x{p.width}")
        elif pixels_of(row).std() < p.min_pixel_std:
            reasons.append("not_constant")
        else:
            reasons.append(None)
    return pd.Series(reasons, index=frame.index, dtype=object)


# --- splits and checks ----------------------------------------------------------------------
def pixel_hash(pixels: bytes) -> str:
    return hashlib.blake2b(pixels, digest_size=12).hexdigest()


def assign_image_splits(
    frame: pd.DataFrame,
    valid_fraction: float,
    test_fraction: float,
    salt: str,
    idx_splits: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Provided test kept; valid carved from train by a hash of the pixels; unsplit images by the same hash
    (test, valid, train), so identical images share a split and adding data never moves an old image."""
    out = frame.copy()
    units = np.array([hash_unit(pixel_hash(px), salt) for px in out["pixels"]])
    given = out["split"].astype("string")
    is_given = {name: given.eq(name).fillna(False).to_numpy(dtype=bool) for name in ("train", "test")}
    from_train = np.where(units < valid_fraction, "valid", "train")
    unsplit = np.where(
        units < test_fraction, "test", np.where(units < test_fraction + valid_fraction, "valid", "train")
    )
    out["split"] = np.where(
        is_given["test"],
        "test",
        np.where(
            is_given["train"], from_train, np.where(given.isna().to_numpy(dtype=bool), unsplit, given.astype(object))
        ),
    )
    counts = {s: int((out["split"] == s).sum()) for s in ("train", "valid", "test")}
    if min(counts.values()) == 0:
        raise StageError(
            f"too few images for three splits: {counts}{provided_splits_advice(is_given, idx_splits)}; add data or "
            f"raise split.valid_fraction ({valid_fraction}) / split.test_fraction ({test_fraction})"
        )
    return out.astype({"split": "string"})


def provided_splits_advice(is_given: dict[str, np.ndarray], idx_splits: dict[str, str] | None) -> str:
    """What to do when provided splits leave one empty (a test file alone taken as a whole data set): declare the
    file unsplit, spelled as the flow's --set takes it. Refused rather than hash-split quietly: a file named as a
    provided split is one the user said was a split, and the fix is one flag."""
    provided = {name: int(flags.sum()) for name, flags in is_given.items() if flags.any()}
    if not provided:
        return ""
    if not idx_splits:
        return f"; {provided} came as provided splits"
    prefixes = sorted({idx_splits[name] for name in provided if name in idx_splits})
    prefix = prefixes[0] if len(prefixes) == 1 else "PREFIX"
    return (
        f"; {provided} came as provided splits (data.idx_splits={idx_splits}): to take the file as the whole data "
        f"set, declare it unsplit: --set 'data.idx_splits={{none: {prefix}}}' (params.yaml: "
        f"idx_splits: {{none: {prefix}}})"
    )


def intensity_histogram(frame: pd.DataFrame) -> list[float]:
    counts = np.zeros(HISTOGRAM_BINS)
    for px in frame["pixels"]:
        counts += np.bincount(np.frombuffer(px, dtype=np.uint8) // (256 // HISTOGRAM_BINS), minlength=HISTOGRAM_BINS)
    return (counts / max(counts.sum(), 1)).tolist()


def image_dataset_report(frame: pd.DataFrame, reference_histogram: list[float] | None) -> dict:
    hashes = frame["pixels"].map(pixel_hash)
    train = frame["split"] == "train"
    train_hashes = set(hashes[train])
    means = [np.frombuffer(px, dtype=np.uint8).mean() for px in frame["pixels"]]
    histogram = intensity_histogram(frame[train])
    report = {
        "images": len(frame),
        **{f"images_{s}": int((frame["split"] == s).sum()) for s in ("train", "valid", "test")},
        "train_per_class": {
            str(k): int(v) for k, v in frame.loc[train, "label"].fillna("(none)").value_counts().sort_index().items()
        },
        "mean_intensity": float(np.mean(means)),
        "intensity_spread": float(np.std(means)),
        "duplicate_rate": float(hashes[train].duplicated().mean()) if train.any() else 0.0,
        **{
            f"{s}_leak_rate": float(hashes[frame["split"] == s].isin(train_hashes).mean())
            if (frame["split"] == s).any()
            else 0.0
            for s in ("valid", "test")
        },
        "intensity_histogram": histogram,
    }
    means, split = np.asarray(means), frame["split"].to_numpy(dtype=object)
    codes = pd.Categorical(frame["label"].astype("string")).codes  # -1 without a label
    for name in ("valid", "test"):
        report[f"intensity_shift_p_{name}"] = distribution_shift_p(means[split == "train"], means[split == name])
        report[f"label_shift_p_{name}"] = shift_p_value(
            codes[(split == "train") & (codes >= 0)], codes[(split == name) & (codes >= 0)]
        )
    report["classes_missing"] = {
        name: sorted(set(frame.loc[train, "label"].dropna()) - set(frame.loc[frame["split"] == name, "label"].dropna()))
        for name in ("valid", "test")
    }
    if reference_histogram:
        report["intensity_drift"] = 0.5 * float(np.abs(np.array(histogram) - np.array(reference_histogram)).sum())
    return report


def failed_image_checks(report: dict, p: ImageDatasetParams) -> list[str]:
    failures = [
        f"class {label!r} has {n} train images, fewer than dataset.min_rows_per_class={p.min_rows_per_class}"
        for label, n in report["train_per_class"].items()
        if n < p.min_rows_per_class
    ]
    if report["duplicate_rate"] > p.max_duplicate_rate:
        failures.append(f"duplicate image rate {report['duplicate_rate']:.3f} > dataset.max_duplicate_rate")
    for split in ("valid", "test"):
        if report[f"{split}_leak_rate"] > p.max_leak_rate:
            failures.append(
                f"{split} images identical to train images: {report[f'{split}_leak_rate']:.3f} > dataset.max_leak_rate"
            )
    for split in ("valid", "test"):
        for key, what in (("intensity_shift_p", "mean intensities"), ("label_shift_p", "classes")):
            observed = report.get(f"{key}_{split}", 1.0)
            if getattr(p, key) and observed < getattr(p, key):
                failures.append(
                    f"{split}'s {what} differ from train's past chance: p = {observed:.2g} "
                    f"< dataset.{key}={getattr(p, key)}"
                )
    if p.max_intensity_drift and report.get("intensity_drift", 0.0) > p.max_intensity_drift:
        failures.append(
            f"intensity histogram drifted {report['intensity_drift']:.3f} from the accepted data "
            "> dataset.max_intensity_drift"
        )
    return failures


def to_arrays(frame: pd.DataFrame, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(N, C, H, W) uint8 images and (N,) class ids (-1 without a label or for a class train never had)."""
    index = {c: i for i, c in enumerate(classes)}
    images = (
        np.stack([pixels_of(row).transpose(2, 0, 1) for _, row in frame.iterrows()])
        if len(frame)
        else np.zeros((0, 1, 1, 1), dtype=np.uint8)
    )
    labels = np.array([index.get(lab, -1) if isinstance(lab, str) else -1 for lab in frame["label"]], dtype=np.int64)
    return images, labels


def encode_png(image: np.ndarray) -> bytes:
    """(C, H, W) or (H, W) uint8 -> PNG bytes."""
    from PIL import Image

    img = (
        image[0] if image.ndim == 3 and image.shape[0] == 1 else image.transpose(1, 2, 0) if image.ndim == 3 else image
    )
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buffer, format="PNG")
    return buffer.getvalue()
