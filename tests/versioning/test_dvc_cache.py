"""A corrupt or missing DVC cache object is named, and fetching from the remote repairs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from components.versioning.cache import CacheCorrupt, find_problems, repair, verify
from components.versioning.dvc import dvc_env
from tests.conftest import GLOSSES, git


def dvc(cwd, *args):
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, capture_output=True, text=True, env=dvc_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def repo(tmp_path):
    """A git + DVC repo tracking a real slice of the glosses and a directory, pushed to a local remote."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "local", str(tmp_path / "remote"))
    lines = GLOSSES.read_text(encoding="utf-8").splitlines()
    (root / "corpus.txt").write_text("\n".join(lines[:2000]) + "\n", encoding="utf-8")
    (root / "shards").mkdir()
    for i in range(3):
        (root / "shards" / f"{i}.txt").write_text("\n".join(lines[i * 100 : (i + 1) * 100]) + "\n", encoding="utf-8")
    dvc(root, "add", "corpus.txt", "shards")
    dvc(root, "push")
    return root


def cache_object(root, md5):
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def test_an_intact_cache_verifies(repo):
    assert find_problems(repo) == []
    verify(repo)


def test_a_corrupt_object_is_named_and_repaired_from_the_remote(repo):
    import hashlib

    good = (repo / "shards" / "1.txt").read_bytes()
    obj = cache_object(repo, hashlib.md5(good).hexdigest())
    obj.chmod(0o644)
    obj.write_bytes(good[:-10] + b"bitrot....")
    with pytest.raises(CacheCorrupt, match=r"\(shards/1.txt, stage shards.dvc\) is corrupt.*--repair"):
        verify(repo)
    proc = subprocess.run(
        [sys.executable, "-m", "components.commands.dvc_cache", "--workspace", str(repo)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: dvc_cache: DVC cache file .dvc/cache/files/md5/")

    fixed = repair(repo)
    assert [p.output for p in fixed] == ["shards/1.txt"]
    assert obj.read_bytes() == good
    assert (repo / "shards" / "1.txt").read_bytes() == good


def test_a_missing_object_is_fetched_again(repo):
    import hashlib

    obj = cache_object(repo, hashlib.md5((repo / "corpus.txt").read_bytes()).hexdigest())
    obj.chmod(0o644)
    obj.unlink()
    assert [(p.output, p.kind) for p in find_problems(repo)] == [("corpus.txt", "missing")]
    repair(repo)
    assert find_problems(repo) == []
