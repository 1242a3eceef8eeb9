import copy
from pathlib import Path

import pytest
import yaml

from components.applications.kind import application_params, kind_of
from components.core.params import ParamsError, flatten
from components.kinds.text.params import load_params, params_from_dict

ROOT = Path(__file__).resolve().parents[2]


def shipped() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_shipped_profiles_hold_only_what_they_change_and_each_is_valid_written():
    raw = shipped()
    for app in ("sentences", "pretrain", "conditional"):
        params = load_params(ROOT / "params.yaml", app)
        assert set(params.profiles) == {"tiny", "gpu"}
        for name, profile in params.profiles.items():
            knobs = flatten(profile)
            restated = [k for k, v in knobs.items() if flatten(raw[app])[k] == v]
            assert not restated, f"{app}.profiles.{name} restates the committed {restated}"
            applied = copy.deepcopy(raw)
            for key, value in knobs.items():
                *parents, leaf = key.split(".")
                node = applied[app]
                for part in parents:
                    node = node[part]
                node[leaf] = value
            kind_of(applied, app).check_params(application_params(applied, app))  # each profile, written in, is valid


def test_a_key_missing_from_params_is_one_error_naming_it():
    raw = shipped()
    del raw["sentences"]["model"]["word_dropout"]
    with pytest.raises(ParamsError, match=r"missing parameter\(s\) \['sentences.model.word_dropout'\]"):
        params_from_dict(raw)


def test_each_application_is_its_own_section_and_without_a_name_the_default_one_is_used():
    raw = shipped()
    raw["sentences_copy"] = {**raw["sentences"], "train": {**raw["sentences"]["train"], "lr": 0.01}}
    assert params_from_dict(raw, "sentences_copy").train.lr == 0.01
    assert params_from_dict(raw, "sentences").train.lr == shipped()["sentences"]["train"]["lr"]
    assert params_from_dict(raw, "sentences_copy").application == "sentences_copy"
    assert params_from_dict(raw).application == raw["orchestrate"]["default_application"]
    del raw["orchestrate"]["default_application"]
    with pytest.raises(ParamsError, match="say which one"):
        params_from_dict(raw)
    with pytest.raises(ParamsError, match="no application 'audio'"):
        params_from_dict(raw, "audio")


def test_names_are_filled_in_from_the_application_and_family():
    params = params_from_dict(shipped())
    assert (params.model_name, params.experiment_name, params.deployment_name) == (
        "sentences-bsvae",
        "sentences",
        "retrain-sentences",
    )
    raw = shipped()
    raw["sentences"]["register"]["model_name"] = "{app}-x"
    with pytest.raises(ParamsError, match="register.model_name.*placeholders"):
        params_from_dict(raw)


@pytest.mark.parametrize(
    "section,key,value,message",
    [
        ("train", "epochs", "three", "train.epochs: expected an integer"),
        ("train", "lr", 0.0, r"sentences.train.lr: must be in \(0, 1\], got 0.0"),
        ("train", "beta_schedule", "sometimes", "sentences.train.beta_schedule: must be one of"),
        ("train", "epoch", 3, "unknown parameter"),
        ("split", "test_fraction", 0.6, "split"),
        ("evaluate", "iw_samples", 0, "sentences.evaluate.iw_samples: must be positive, got 0"),
        ("train", "lr", float("nan"), "expected a finite number"),
    ],
)
def test_bad_values_name_their_key(section, key, value, message):
    raw = shipped()
    raw["sentences"][section][key] = value
    with pytest.raises(ParamsError, match=message):
        params_from_dict(raw)


def test_a_profile_is_checked_against_the_schema_and_default_is_no_profile_to_list():
    raw = shipped()
    raw["sentences"]["profiles"]["tiny"]["train"]["lr"] = 2.0
    with pytest.raises(ParamsError, match=r"sentences.profiles.tiny.train.lr: must be in \(0, 1\], got 2.0"):
        params_from_dict(raw)
    raw = shipped()
    raw["sentences"]["profiles"]["default"] = {"train": {"epochs": 1}}
    with pytest.raises(ParamsError, match="'default' is the committed values themselves"):
        params_from_dict(raw)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)


def test_a_transformer_needs_a_position_for_every_token_train_max_len_allows():
    import yaml

    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["pretrain"]["model"].update(max_positions=256)
    raw["pretrain"]["model"]["bsvae"].update(encoder="transformer", decoder="transformer")
    raw["pretrain"]["train"]["max_len"] = 256
    with pytest.raises(
        ParamsError,
        match=r"pretrain.model.max_positions \(256\) must be at least train.max_len \+ 1 "
        r"\(257\) for a Transformer",
    ):
        kind_of(raw, "pretrain").check_params(application_params(raw, "pretrain"))  # the flow's: the family's rules
    raw["pretrain"]["model"]["max_positions"] = 257
    kind_of(raw, "pretrain").check_params(application_params(raw, "pretrain"))


def test_a_launcher_is_the_interpreter_or_torchrun_with_its_own_options():
    from components.core.params import check_launcher

    for launcher in (
        "python3",
        "python",
        "torchrun --standalone --nproc-per-node 8",
        "torchrun --nnodes=2 --node_rank 0 --rdzv-backend c10d --rdzv-endpoint head:29500",
    ):
        check_launcher(launcher)
    for launcher in ("bash", "torchrun --standalone=1", "torchrun --nproc-per-node", "torchrun --master-addr a|b"):
        with pytest.raises(ParamsError, match="^launcher"):
            check_launcher(launcher)


def test_credentials_inside_urls_never_reach_an_error_line():
    from components.core.errors import error_line, redact

    assert (
        redact("MLflow server https://pipeline:s3cret@mlflow.example:5000 refused")
        == "MLflow server https://***@mlflow.example:5000 refused"
    )
    assert (
        redact("postgresql+psycopg2://mlflow:pw@db/mlflow and s3://bucket/key")
        == "postgresql+psycopg2://***@db/mlflow and s3://bucket/key"
    )
    line = error_line("retrain", "Prefect server http://team:auth@127.0.0.1:4200/api is unreachable")
    assert line == "error: retrain: Prefect server http://***@127.0.0.1:4200/api is unreachable"
