"""`models:/NAME@ALIAS` and `models:/NAME/VERSION`: the one parser of registry URIs, and what one names now.

The commands (generate, predict, score, serve), the text kind's `train.init_from` and the loaders all read
registry URIs through here, so a name or alias that one accepts the others accept too.
"""

from __future__ import annotations

import re

URI = re.compile(r"^models:/(?P<name>[A-Za-z0-9][\w.-]*)(?:@(?P<alias>[A-Za-z][\w-]*)|/(?P<version>\d+))$")


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of `models:/NAME@ALIAS` or `models:/NAME/VERSION`; ValueError otherwise."""
    match = URI.match(uri)
    if not match:
        raise ValueError(f"must be models:/NAME@ALIAS or models:/NAME/VERSION, got {uri!r}")
    return match["name"], match["alias"], match["version"]


def is_registry_uri(uri: str) -> bool:
    return uri.startswith("models:/") and URI.match(uri) is not None


def resolve(client, uri: str):
    """The ModelVersion that `uri` names now (an alias resolved once, here); ValueError for another shape."""
    name, alias, version = parse_model_uri(uri)
    return client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
