"""Every application of the pipeline, by name: what the flow, the registry and the tests look up."""

from __future__ import annotations

from components.applications.base import Application
from components.applications.conditional import CONDITIONAL
from components.applications.images import IMAGES
from components.applications.sentences import SENTENCES
from components.applications.translation import TRANSLATION
from components.core.errors import StageError

APPLICATIONS: dict[str, Application] = {app.name: app for app in (SENTENCES, CONDITIONAL, TRANSLATION, IMAGES)}


def application(name: str) -> Application:
    """The application called `name`; one StageError listing the known ones otherwise."""
    if name not in APPLICATIONS:
        raise StageError(f"no application {name!r} (have {sorted(APPLICATIONS)})")
    return APPLICATIONS[name]
