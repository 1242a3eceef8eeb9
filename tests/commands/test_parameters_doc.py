"""docs/parameters.md is what the schema says: regenerated, it is byte for byte the committed page, and every knob
of every shipped kind has a meaning (the docstring under its field)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from components.applications.kind import application_params
from components.core.params import read_params_file
from components.core.schema import schema, section_type
from components.core.schema_doc import field_docs, sections

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "components.commands.parameters_doc", *args], cwd=cwd, capture_output=True, text=True
    )


def test_the_committed_reference_is_current():
    result = run("--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stale_reference_is_one_error_line(tmp_path):
    stale = tmp_path / "parameters.md"
    stale.write_text((ROOT / "docs/parameters.md").read_text(encoding="utf-8").replace("positive", "negative"))
    result = run("--check", "--out", str(stale))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: parameters_doc: {stale} is stale: run python -m components.commands.parameters_doc"
    ]


def test_every_knob_has_a_meaning():
    raw = read_params_file(ROOT / "params.yaml")
    undocumented = []
    for app in (key for key in raw if key != "orchestrate"):
        params_cls = type(application_params(raw, app))
        for name, cls in [("", params_cls), *sections(params_cls)]:
            docs, hints = field_docs(cls), schema(cls)
            undocumented += [
                f"{app}.{name}.{f.name}"
                for f in dataclasses.fields(cls)
                if f.name not in docs and not section_type(hints[f.name])[0]
            ]
    assert not undocumented, undocumented
