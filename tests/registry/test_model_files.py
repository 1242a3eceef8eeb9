"""The digest of a model's files: every path and every byte counts, MLflow's own download marker does not."""

from __future__ import annotations

import pytest

from components.core.errors import StageError
from components.registry.model_files import files_digest
from components.registry.model_uri import parse_model_uri


def test_the_digest_changes_with_any_file_and_ignores_mlflows_download_marker(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "code" / "model.py").write_text("x = 1\n")
    first = files_digest(tmp_path)
    (tmp_path / "registered_model_meta").write_text("model_name: m\n")
    assert files_digest(tmp_path) == first
    (tmp_path / "code" / "model.py").write_text("x = 2\n")
    changed = files_digest(tmp_path)
    assert changed != first
    (tmp_path / "code" / "model.py").rename(tmp_path / "code" / "other.py")
    assert files_digest(tmp_path) != changed
    (tmp_path / "code" / "other.py").rename(tmp_path / "code" / "model.py")
    (tmp_path / "code" / "extra.py").write_text("")
    assert files_digest(tmp_path) != changed
    with pytest.raises(StageError, match="no files"):
        files_digest(tmp_path / "code" / "none")


def test_one_parser_of_registry_uris():
    assert parse_model_uri("models:/pretrain-bsvae@champion") == ("pretrain-bsvae", "champion", None)
    assert parse_model_uri("models:/images.gan/12") == ("images.gan", None, "12")
    for bad in ("models:/x", "models:/x/", "models:/x@", "runs:/abc/model", "models:/x/1/extra", "models:/@a"):
        with pytest.raises(ValueError, match="models:/NAME@ALIAS"):
            parse_model_uri(bad)
