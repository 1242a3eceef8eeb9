"""The Markdown samples report a person reads: prior samples (by label, for a conditional model),
reconstructions, one interpolation."""

from __future__ import annotations

import numpy as np

from components.data.batches import TokenArrays
from components.kinds.text.serving.generator import TextGenerator


def decode_split(generator: TextGenerator, data: TokenArrays, n: int) -> list[str]:
    """The first n sentences of a split as the model sees them (after tokenization, <unk> included)."""
    n = min(n, len(data))
    return generator.decode([np.asarray(data.ids[data.offsets[i] : data.offsets[i + 1]]).tolist() for i in range(n)])


def samples_report(
    generator: TextGenerator,
    samples: list[str],
    originals: list[str],
    reconstructions: list[str],
    by_label: dict[str, list[str]] | None = None,
    original_labels: list[str] | None = None,
) -> str:
    """Markdown a person reads: prior samples, reconstructions beside their inputs, one interpolation."""
    lines = ["# Samples", ""]
    if by_label:
        lines += [
            "## By label (the samples control accuracy is measured on: top-p 0.9, evaluate.control_temperature)",
            "",
        ]
        for label, texts in by_label.items():
            lines += [f"### {label}", ""] + [f"{i + 1}. {s}" for i, s in enumerate(texts[:5])] + [""]
    else:
        lines += ["## From the prior (temperature 1, top-p 0.9)", ""]
        lines += [f"{i + 1}. {s}" for i, s in enumerate(samples[:20])]
    lines += ["", "## Reconstructions (greedy, from the posterior mean)", "", "| input | reconstruction |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in zip(originals[:10], reconstructions[:10])]
    if len(originals) >= 2:
        label = original_labels[0] if original_labels else None
        lines += [
            "",
            f"## Interpolation: {originals[0]!r} -> {originals[1]!r}" + (f" (label {label})" if label else ""),
            "",
        ]
        lines += [
            f"{i}. {s}" for i, s in enumerate(generator.interpolate(originals[0], originals[1], steps=5, label=label))
        ]
    return "\n".join(lines) + "\n"
