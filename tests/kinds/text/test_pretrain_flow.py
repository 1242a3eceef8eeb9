"""Pretrain once, fine-tune with lineage, on the real stack: the flow pretrains on a real GCIDE slice and registers
`pretrain-bsvae`; the conditional application fine-tuned from it (train.init_from) with latent conditioning (the
label reaches the model through a p(z|y) fitted in the pretrained latent space) adopts its tokenizer, loads its
weights, is tagged and carded with the base version, is gated, served with `label`, and rebuilds bit for bit from
its lineage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flows.retrain import retrain
from tests.conftest import assert_up_to_date_and_rebuilt, glosses, make_workspace, tracking

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
BASE = "models:/pretrain-bsvae@challenger"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, prefect_api):
    ws = make_workspace(tmp_path_factory.mktemp("pretrain") / "ws", glosses(200))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        pretrained = retrain(workspace=str(ws), app="pretrain", profile="tiny")
        tuned = retrain(
            workspace=str(ws),
            app="conditional",
            profile="tiny",
            overrides=[f"train.init_from={BASE}", "model.bsvae.conditioning=latent"],
        )
    return ws, pretrained, tuned


def test_pretraining_reads_the_dictionary_and_keeps_other_applications_held_out_sentences_out(runs):
    ws, pretrained, _ = runs
    assert pretrained["registered"]["name"] == "pretrain-bsvae"
    # the stages pretraining reads from other applications ran too: their splits are what it must not see
    assert {"sentences-split", "conditional-split", "pretrain-split"} <= set(pretrained["stages"])
    validate = json.loads((ws / "metrics/pretrain/validate.json").read_text())
    assert validate["quarantined_by_check"]["error:dictd_quotation"] > 0
    assert "held_out_overlap_dropped" in json.loads((ws / "metrics/pretrain/split.json").read_text())
    assert json.loads((ws / "metrics/pretrain/dataset.json").read_text())["held_out_overlap"] == 0


def test_the_fine_tuned_version_adopts_the_base_tokenizer_and_names_its_base(runs):
    ws, pretrained, tuned = runs
    client = tracking(ws)
    base = client.get_model_version("pretrain-bsvae", pretrained["registered"]["version"])
    version = client.get_model_version("conditional-bsvae", tuned["registered"]["version"])
    assert tuned["base_model"] == f"base model pretrain-bsvae v{base.version}"
    assert version.tags["base_model"] == f"pretrain-bsvae v{base.version}"
    assert version.tags["tokenizer.md5"] == base.tags["tokenizer.md5"]  # the same token ids
    assert (
        json.loads((ws / "metrics/conditional/tokenize.json").read_text())["adopted_from"]
        == f"pretrain-bsvae v{base.version}"
    )
    assert (
        json.loads((ws / "metrics/conditional/train.json").read_text())["base_model"]
        == f"pretrain-bsvae v{base.version}"
    )
    assert f"fine-tuned from `pretrain-bsvae v{base.version}`" in version.description
    import mlflow

    example = mlflow.models.Model.load(f"models:/conditional-bsvae/{version.version}").load_input_example()
    assert "label" in example.columns  # a conditional model's example names a label it knows, so it validates


def test_the_latent_conditioned_version_is_gated_and_served_by_label(runs):
    """No label vectors in the weights (the label enters through the fitted p(z|y)); the gate judged its control
    and the served model answers a label it knows and refuses one it does not."""
    import mlflow
    import pandas as pd
    from safetensors.torch import load_file

    ws, _, tuned = runs
    assert tuned["gate"]["passed"] and any(c["metric"] == "control_accuracy" for c in tuned["gate"]["checks"])
    weights = load_file(str(ws / "models/conditional/bsvae/model.safetensors"))
    assert "fitted_mu" in weights and not any(name.startswith("label_embed") for name in weights)
    tracking(ws)
    model = mlflow.pyfunc.load_model(f"models:/conditional-bsvae/{tuned['registered']['version']}")
    out = model.predict(pd.DataFrame({"label": ["noun.animal"], "n": [3]}), params={"seed": 1})
    assert len(out) == 3 and all(isinstance(t, str) for t in out["text"])
    with pytest.raises(Exception, match="unknown label"):
        model.predict(pd.DataFrame({"label": ["noun.nonsense"], "n": [1]}))


def test_the_fine_tuned_version_rebuilds_bit_for_bit_from_the_base_version_it_recorded(runs, tmp_path):
    ws, _, tuned = runs
    assert_up_to_date_and_rebuilt(
        ws, "conditional", "conditional-bsvae", tuned["registered"]["version"], tmp_path / "scratch"
    )


def test_the_base_model_command_names_a_model_the_registry_lacks(runs):
    ws, _, _ = runs
    params = ws / "params.yaml"
    before = params.read_text(encoding="utf-8")
    try:
        params.write_text(before.replace(f"init_from: {BASE}", "init_from: models:/nope@champion", 1), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "components.commands.base_model", "--app", "conditional", "--workspace", str(ws)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 1 and proc.stderr.startswith(
            "error: base_model: train.init_from: models:/nope@champion is not in the registry"
        )
        assert len(proc.stderr.strip().splitlines()) == 1
    finally:
        params.write_text(before, encoding="utf-8")
