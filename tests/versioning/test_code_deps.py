"""Code deps in dvc.yaml follow the imports: the command rewrites stale ones, and DVC re-runs exactly the stages
of the kind whose file was edited."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from components.versioning.code_deps import rewrite, stale_stages
from components.versioning.dvc import dvc_env
from tests.imports import ROOT


def test_the_command_rewrites_stale_code_deps_and_keeps_everything_else(tmp_path):
    import yaml

    shutil.copytree(ROOT / "components", tmp_path / "components", ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    stale = text.replace("      - components/data/quarantine.py\n", "", 1).replace(
        "      - components/kinds/images/stages/check.py\n",
        "      - components/kinds/images/stages/check.py\n      - components/kinds/text/models/bsvae.py\n",
        1,
    )
    (tmp_path / "dvc.yaml").write_text(stale, encoding="utf-8")
    check = subprocess.run(
        [sys.executable, "-m", "components.commands.code_deps", "--check"], cwd=tmp_path, capture_output=True, text=True
    )
    assert check.returncode == 1 and check.stderr.strip().startswith("error: code_deps: 2 stage(s) with stale")
    assert sorted(rewrite(tmp_path, tmp_path / "dvc.yaml")) == sorted(
        stale_stages(tmp_path, yaml.safe_load(stale)["stages"])
    )
    assert (tmp_path / "dvc.yaml").read_text(encoding="utf-8") == text  # the comments and folded commands too


@pytest.mark.slow
def test_editing_one_kind_s_file_leaves_the_other_applications_unchanged(trained_workspace):
    """After a sentences run, an edit to the GAN (images) leaves every sentences stage up to date; an edit to the
    BS-VAE (text) changes the sentences train stage."""
    workspace, _ = trained_workspace

    def changed_stages() -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "dvc", "status", "--json", "--with-deps", "sentences-evaluate"],
            cwd=workspace,
            capture_output=True,
            text=True,
            env=dvc_env(),
        )
        assert proc.returncode == 0, proc.stderr
        return {name.split(":")[-1] for name in json.loads(proc.stdout or "{}")}

    assert changed_stages() == set()
    with open(workspace / "components/kinds/images/models/dcgan.py", "a", encoding="utf-8") as fh:
        fh.write("\n# an edit to an image family\n")
    assert changed_stages() == set()
    with open(workspace / "components/kinds/text/models/bsvae.py", "a", encoding="utf-8") as fh:
        fh.write("\n# an edit to a text family\n")
    assert {"sentences-train", "sentences-evaluate"} <= changed_stages()
