"""Every application of the pipeline, by name: what the flow, the registry and the tests look up.

The shipped applications are the built-in kinds' (each kind lists its own); any other section of params.yaml with a
`kind:` is an application of that kind too (components/kinds), so a new application, or a new kind's, needs no edit
here.
"""

from __future__ import annotations

from pathlib import Path

from components.applications.base import Application
from components.applications.kind import BUILT_IN, kind_named, kind_of
from components.core.errors import StageError
from components.core.params import PARAMS_FILE, read_params_file

APPLICATIONS: dict[str, Application] = {app.name: app for kind in BUILT_IN for app in kind_named(kind).shipped}


def application(name: str, params_path: str | Path | None = None) -> Application:
    """The application called `name`: a shipped one, or the one its kind makes of params.yaml's section `name`
    (the file at `params_path`, params.yaml in the working directory by default); one StageError otherwise."""
    if name in APPLICATIONS:
        return APPLICATIONS[name]
    path = Path(params_path or PARAMS_FILE)
    raw = read_params_file(path) if path.is_file() else {}
    section = raw.get(name)
    if isinstance(section, dict) and section.get("kind"):
        return kind_of(raw, name).application(name)
    raise StageError(f"no application {name!r} (have {sorted(APPLICATIONS)} and the sections of {path} with a kind)")
