"""The flow's parameter handling: profiles, --set and --corpus written into params.yaml safely."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.applications.overrides import apply_overrides, resolve_overrides
from components.core.params import ParamsError, parse_assignment
from components.kinds.text.params import load_params

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def params_copy(tmp_path) -> Path:
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    return path


def test_values_are_read_as_yaml():
    assert parse_assignment("train.epochs=3") == ("train.epochs", 3)
    assert parse_assignment("tokenize.lowercase=false") == ("tokenize.lowercase", False)
    with pytest.raises(ParamsError, match="KEY=VALUE"):
        parse_assignment("train.epochs")


def test_profile_then_set_wins_and_comments_survive(params_copy):
    raw = yaml.safe_load(params_copy.read_text())
    apply_overrides(params_copy, resolve_overrides(raw, None, "corpus.txt", "tiny", ["train.epochs=2"]))
    params = load_params(params_copy)
    assert params.model.hidden_dim == raw["sentences"]["profiles"]["tiny"]["model"]["hidden_dim"]
    assert params.train.epochs == 2
    assert params.data.corpus == "corpus.txt"
    assert "# 0: all epochs" in params_copy.read_text()
    # Switching back restores every knob the profile touched.
    apply_overrides(params_copy, resolve_overrides(load_raw(params_copy), None, None, "default", [], defaults=raw))
    assert load_params(params_copy).model.hidden_dim == raw["sentences"]["model"]["hidden_dim"]


def load_raw(path):
    return yaml.safe_load(path.read_text())


def test_set_keys_are_the_applications_unless_they_name_a_top_level_section(params_copy):
    raw = yaml.safe_load(params_copy.read_text())
    changes = resolve_overrides(
        raw, "sentences", None, None, ["train.lr=0.01", "sentences.train.seed=7", "orchestrate.retries=0"]
    )
    assert changes == {"sentences.train.lr": 0.01, "sentences.train.seed": 7, "orchestrate.retries": 0}


def test_an_unknown_application_lists_the_known_ones(params_copy):
    with pytest.raises(ParamsError, match=r"no application 'audio'.*sentences"):
        resolve_overrides(yaml.safe_load(params_copy.read_text()), "audio", None, None, [])


@pytest.mark.parametrize(
    "sets,message",
    [
        (["train.epochz=2"], "unknown parameter 'sentences.train.epochz'"),
        (["train.epochs=-1"], "sentences.train.epochs: must be positive, got -1"),
        (["nothing.here=1"], "unknown parameter"),
        # dvc.yaml runs the launcher in a shell: whoever starts a flow run with overrides must not run code with it
        (["train.launcher=torchrun --standalone; touch /tmp/owned"], "'--standalone;' is not a torchrun option"),
        (["train.launcher=torchrun --no-python bash"], "'--no-python' is not a torchrun option"),
        (["train.launcher=python3 -c 'import os'"], "must be python3, python or torchrun with its options"),
        (["train.launcher=torchrun --nproc-per-node $(id)"], "is not a plain value"),
    ],
)
def test_invalid_overrides_leave_the_file_untouched(params_copy, sets, message):
    before = params_copy.read_bytes()
    raw = yaml.safe_load(before)
    with pytest.raises(ParamsError, match=message):
        apply_overrides(params_copy, resolve_overrides(raw, None, None, None, sets))
    assert params_copy.read_bytes() == before


def test_unknown_profile_lists_the_known_ones(params_copy):
    with pytest.raises(ParamsError, match="no profile 'huge'.*tiny"):
        resolve_overrides(yaml.safe_load(params_copy.read_text()), None, None, "huge", [])


def test_a_set_changes_its_line_only_and_a_profile_round_trip_restores_every_byte(params_copy):
    before = params_copy.read_text()
    raw = yaml.safe_load(before)
    apply_overrides(
        params_copy,
        resolve_overrides(raw, "conditional", None, None, ["train.init_from=models:/pretrain-bsvae@champion"]),
    )
    after = params_copy.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before.splitlines(), after) if a != b]
    assert len(after) == len(before.splitlines()) and len(changed) == 1
    assert changed[0][1].startswith("    init_from: models:/pretrain-bsvae@champion ")
    assert changed[0][1].endswith(" # fine-tune a registered model, e.g. models:/pretrain-bsvae@champion")
    params_copy.write_text(before)
    for profile in ("gpu", "tiny", "default"):  # over the committed values, as the flow applies them
        current = yaml.safe_load(params_copy.read_text())
        apply_overrides(params_copy, resolve_overrides(current, "conditional", None, profile, [], defaults=raw))
    assert params_copy.read_text() == before  # quotes, nulls, comments and wrapped lines as they were


def test_switching_profiles_leaves_no_knob_of_the_previous_one_behind(params_copy):
    """gpu sets train.precision, which tiny leaves alone: after gpu then tiny it is the committed value again."""
    committed = yaml.safe_load(params_copy.read_text())
    for profile in ("gpu", "tiny"):
        current = yaml.safe_load(params_copy.read_text())
        apply_overrides(params_copy, resolve_overrides(current, "images", None, profile, [], defaults=committed))
    params = yaml.safe_load(params_copy.read_text())["images"]
    assert params["train"]["precision"] == committed["images"]["train"]["precision"] == "fp32"
    assert params["train"]["batch_size"] == committed["images"]["profiles"]["tiny"]["train"]["batch_size"]


def test_the_committed_params_are_the_defaults(tmp_path):
    from components.applications.overrides import committed_params

    assert committed_params(tmp_path) is None  # no git repository: the file itself is the defaults
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "params.yaml").write_text("sentences: {train: {epochs: 2}}\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "params.yaml"], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "p"], check=True
    )
    (tmp_path / "params.yaml").write_text("sentences: {train: {epochs: 1}}\n")
    assert committed_params(tmp_path) == {"sentences": {"train": {"epochs": 2}}}


def test_the_profile_in_force_is_named_so_none_stays_silently(params_copy):
    from components.applications.overrides import profile_in_force

    raw = yaml.safe_load(params_copy.read_text())
    assert {app: profile_in_force(raw, app) for app in ("sentences", "conditional", "pretrain")} == {
        "sentences": None,
        "conditional": None,
        "pretrain": None,
    }
    apply_overrides(params_copy, resolve_overrides(raw, "pretrain", None, "tiny", []))
    raw = yaml.safe_load(params_copy.read_text())
    assert profile_in_force(raw, "pretrain") == "tiny" and profile_in_force(raw, "sentences") is None
    apply_overrides(params_copy, resolve_overrides(raw, "pretrain", None, None, ["model.hidden_dim=48"]))
    assert profile_in_force(yaml.safe_load(params_copy.read_text()), "pretrain") is None


def test_a_mapping_or_list_knob_takes_a_value_in_yaml_flow_syntax(params_copy):
    """The images check's advice for a test file alone (declare it unsplit) is followed from the command line as
    written: the value replaces the one-line mapping in place and is checked by the schema like any value."""
    before = params_copy.read_text()
    raw = yaml.safe_load(before)
    apply_overrides(
        params_copy,
        resolve_overrides(raw, "images", None, None, ["data.idx_splits={none: t10k}", "train.epochs=7"]),
    )
    after = yaml.safe_load(params_copy.read_text())
    assert after["images"]["data"]["idx_splits"] == {"none": "t10k"} and after["images"]["train"]["epochs"] == 7
    changed = [(a, b) for a, b in zip(before.splitlines(), params_copy.read_text().splitlines()) if a != b]
    assert len(changed) == 2 and changed[0][1].startswith("    idx_splits: {none: t10k}")
    assert "# IDX file prefixes" in changed[0][1]  # the comment stays
    apply_overrides(params_copy, resolve_overrides(after, "translation", None, None, ["evaluate.decoders=[greedy]"]))
    assert yaml.safe_load(params_copy.read_text())["translation"]["evaluate"]["decoders"] == ["greedy"]
    for bad, message in (
        ("data.idx_splits={validation: t10k}", "idx_splits"),  # not a split the schema knows
        ("data={corpus: x}", "missing parameter"),  # a section is set key by key: the rest would be lost
    ):
        with pytest.raises(ParamsError, match=message):
            apply_overrides(params_copy, resolve_overrides(after, "images", None, None, [bad]))
