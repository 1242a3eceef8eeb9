"""What the flow and the benchmarks write into params.yaml: a profile, a corpus and `--set KEY=VALUE` overrides,
checked by every application's kind before a byte is written, and written in place so that `git diff params.yaml`
shows the changed values and nothing else (comments, quotes and layout kept), as `dvc exp run --set-param` does.

A profile holds only the knobs it changes; applying one first puts every knob any profile names back to its
committed value (`git show HEAD:params.yaml`), so switching profiles leaves nothing behind and `default` returns
to the committed values. A `--set` value is read as YAML: a number, a string, or a mapping or list in flow syntax
(`--set 'data.idx_splits={none: t10k}'`) for a knob that holds one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from components.applications.kind import application_params, kind_of
from components.core.params import (
    PARAMS_FILE,
    ParamsError,
    application_names,
    choose_application,
    flatten,
    parse_assignment,
)

DEFAULT_PROFILE = "default"
"""The profile that is no preset: every knob a profile names at its value in the committed params.yaml."""


def resolve_overrides(
    raw: dict, app: str | None, corpus: str | None, profile: str | None, sets: list[str], defaults: dict | None = None
) -> dict[str, Any]:
    """Dotted keys to write, each under its application (sentences.train.epochs): the profile's knobs, then the
    corpus, then explicit --set (last wins). A --set key is the application's (train.epochs) unless it names a
    top-level section itself (orchestrate.retries, sentences.train.epochs).

    A profile holds only what it changes. Applying one first puts every knob any profile names back to its value in
    `defaults` (the committed params.yaml; `raw` when there is none), so switching between profiles, or back to
    `default`, leaves no knob of the previous one behind."""
    app = choose_application(raw, app)
    changes: dict[str, Any] = {}
    if profile is not None:
        profiles = raw[app].get("profiles") or {}
        if profile != DEFAULT_PROFILE and profile not in profiles:
            raise ParamsError(
                f"{PARAMS_FILE}: {app} has no profile {profile!r} (have {[DEFAULT_PROFILE, *sorted(profiles)]})"
            )
        base = flatten({k: v for k, v in raw[app].items() if k != "profiles"})
        base |= flatten({k: v for k, v in ((defaults or {}).get(app) or {}).items() if k != "profiles"})
        named = {key for knobs in profiles.values() for key in flatten(knobs or {})}
        changes.update({f"{app}.{key}": base[key] for key in sorted(named) if key in base})
        changes.update(flatten(profiles.get(profile) or {}, f"{app}."))
    if corpus is not None:
        changes[f"{app}.data.corpus"] = corpus
    for key, value in (parse_assignment(s) for s in sets):
        changes[key if key.split(".")[0] in raw else f"{app}.{key}"] = value
    return changes


def committed_params(workspace: Path) -> dict | None:
    """params.yaml as the workspace's last git commit holds it (the defaults a profile is applied over); None when
    there is no such commit."""
    result = subprocess.run(
        ["git", "-C", str(workspace), "show", f"HEAD:{PARAMS_FILE}"], capture_output=True, text=True, check=False
    )
    if result.returncode:
        return None
    try:
        committed = yaml.safe_load(result.stdout)
    except yaml.YAMLError:
        return None
    return committed if isinstance(committed, dict) else None


def apply_overrides(params_path: Path, changes: dict[str, Any]) -> None:
    """Write `changes` (full dotted keys) into params.yaml; refuse (file untouched) if any application's params would
    be invalid. Only the changed values' text changes: every other byte (comments, quotes, nulls, wrapped flow
    mappings) stays as it was, so `git diff params.yaml` shows what a run changed and nothing else."""
    if not changes:
        return
    text = params_path.read_text(encoding="utf-8")
    plain, changed = overridden(yaml.safe_load(text), changes, params_path)
    from components.core.atomic import write_text

    if changed:
        write_text(params_path, set_values(text, changed, params_path))


def overridden(plain: dict, changes: dict[str, Any], where: str | Path = PARAMS_FILE) -> tuple[dict, dict[str, Any]]:
    """(parsed params.yaml with `changes` applied, the changes that change something), checked by every
    application's kind: a ParamsError naming the key, `plain` left as it was, when any is unknown or invalid."""
    import copy

    plain, changed = copy.deepcopy(plain), {}
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = plain
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ParamsError(f"{where}: unknown parameter {key!r}")
            node = node[part]
        if leaf not in node:
            raise ParamsError(f"{where}: unknown parameter {key!r}")
        if node[leaf] != value or type(node[leaf]) is not type(value):
            node[leaf] = changed[key] = value
    for app in application_names(plain):  # raises with the offending key before anything is written
        params = application_params(plain, app)
        if any(key.startswith(f"{app}.") for key in changed):  # what the kind alone can check of what changed
            kind_of(plain, app).check_params(params)
    return plain, changed


def set_values(text: str, changes: dict[str, Any], where: Path) -> str:
    """`text` with the value of each dotted key replaced in place: a scalar, or a mapping or list written on one line
    (a mapping written as a block of its own lines is a section: its keys are set one by one)."""
    from ruamel.yaml import YAML  # DVC's own YAML library: it knows where each value sits in the file

    doc = YAML().load(text)
    lines = text.split("\n")
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = doc
        for part in parents:
            node = node[part]
        current = node[leaf]
        if isinstance(current, (dict, list)) and not current.fa.flow_style():
            raise ParamsError(f"{where}: {key} is a section, not a value (set its keys: {key}.NAME=VALUE)")
        line, column = node.lc.value(leaf)
        rest = lines[line][column:]
        after = rest[value_end(rest, where, key) :]
        head = lines[line][:column] + yaml_scalar(value)
        if after.strip().startswith("#"):  # keep the comment where it was when the value leaves room
            comment_at = len(lines[line]) - len(after.lstrip())
            after = " " * max(comment_at - len(head), 1) + after.lstrip()
        lines[line] = head + after
    return "\n".join(lines)


def value_end(rest: str, where: Path, key: str) -> int:
    """Where the value that starts `rest` ends: its closing quote or bracket, or the comment after it."""
    if rest[:1] in ("'", '"'):
        close = rest.find(rest[0], 1)
        while close > 0 and rest[0] == "'" and rest[close + 1 : close + 2] == "'":  # '' inside a single-quoted string
            close = rest.find("'", close + 2)
        if close > 0:
            return close + 1
    elif rest[:1] in ("[", "{"):
        close = closing_bracket(rest)
        if close > 0:
            return close + 1
    else:
        comment = rest.find(" #")
        return len(rest[:comment].rstrip()) if comment >= 0 else len(rest.rstrip())
    raise ParamsError(f"{where}: {key}'s value runs over several lines; edit it by hand")


def closing_bracket(rest: str) -> int:
    """The index of the bracket that closes the one `rest` starts with (nested brackets and quoted strings
    skipped), or -1 when it is not on this line."""
    depth, quote = 0, None
    for i, char in enumerate(rest):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def yaml_scalar(value: Any) -> str:
    """One value as YAML writes it on one line (strings quoted only where they must be, mappings and lists in flow
    style)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def profile_in_force(raw: dict, app: str) -> str | None:
    """The profile whose every knob params.yaml's section now holds (None when none does)."""
    section = raw.get(app) or {}
    values = flatten({k: v for k, v in section.items() if k != "profiles"})
    for name, knobs in (section.get("profiles") or {}).items():
        knobs = flatten(knobs or {})
        if knobs and all(values.get(key) == value for key, value in knobs.items()):
            return name
    return None


def write_profile(
    workspace: Path,
    app: str | None,
    profile: str | None = None,
    sets: list[str] = (),
    corpus: str | None = None,
) -> str:
    """Write `profile` (over the committed values), `corpus` and `--set` overrides into the workspace's params.yaml,
    checked first; the application's name. What the flow does before it runs, and what a benchmark does to its
    scratch copy."""
    params_path = workspace / PARAMS_FILE
    raw = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    app = choose_application(raw, app)
    defaults = committed_params(workspace) if profile is not None else None
    apply_overrides(params_path, resolve_overrides(raw, app, corpus, profile, list(sets), defaults))
    return app


def profile_params(params_path: Path, app: str, profile: str | None, sets: list[str] = ()):
    """One application's checked params as a run with `profile` (over the file's own values) and `--set` overrides
    would read them, without writing params.yaml (benchmarks that train outside DVC)."""
    raw = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    plain, _ = overridden(raw, resolve_overrides(raw, app, None, profile, list(sets)), params_path)
    params = application_params(plain, app)
    kind_of(plain, app).check_params(params)
    return params
