"""The structure docs/architecture.md promises, checked from the source: roles by path, no cycles, true DVC deps."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from components.kinds.images.models.base import ImageModel
from components.kinds.images.models.factory import IMAGE_FAMILIES
from components.kinds.text.models.base import TextModel
from components.kinds.text.models.factory import FAMILIES
from components.kinds.translation.models.base import TranslationModel
from components.kinds.translation.models.factory import TRANSLATION_FAMILIES
from components.versioning.code_deps import stale_stages
from tests.imports import ROOT, direct_imports, import_graph, transitive_imports

COMPONENTS = ROOT / "components"
KINDS = COMPONENTS / "kinds"
ENTRY_POINTS = ("stages", "commands")
FAMILY_FILES = [
    *(str(Path(inspect.getfile(family.model)).relative_to(KINDS)) for family in FAMILIES.values()),
    "translation/models/transformer_translator.py",
    "translation/models/latent_translator.py",
    "images/models/conv_vae.py",
    "images/models/vqvae.py",
    "images/models/dcgan.py",
]


def role(path: Path) -> str:
    """What a file is by its path: components/<role>/... for shared code, components/kinds/<kind>/<role>/... for a
    kind's own (stages and commands are entry points; everything else is library code)."""
    parts = path.relative_to(COMPONENTS).parts
    return parts[2] if parts[0] == "kinds" and len(parts) > 3 else parts[0]


def kind_of_file(path: Path) -> str | None:
    parts = path.relative_to(COMPONENTS).parts
    return parts[1] if parts[0] == "kinds" and len(parts) > 2 else None


def test_the_import_graph_of_components_has_no_cycles():
    graph = import_graph()
    state: dict[Path, str] = {}

    def visit(node: Path, trail: list[Path]) -> None:
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(str(p.relative_to(ROOT)) for p in cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])


def test_library_code_never_imports_a_stage_or_a_command():
    for path, imported in import_graph().items():
        if role(path) in ENTRY_POINTS:
            continue
        bad = sorted(str(p.relative_to(ROOT)) for p in imported if role(p) in ENTRY_POINTS)
        assert not bad, f"{path.relative_to(ROOT)} (library) imports {bad}"


def test_entry_points_live_in_stages_and_commands_only():
    for path in COMPONENTS.rglob("*.py"):
        has_main = "\ndef main(" in path.read_text(encoding="utf-8")
        assert has_main == (role(path) in ENTRY_POINTS and path.name != "__init__.py"), path.relative_to(ROOT)


def test_no_kind_imports_another_and_shared_code_imports_no_kind():
    """A kind is one package: its files import shared code and their own kind's only; shared code, the commands a
    person runs included, reaches a kind through the registry (components/applications/kind.py, by module name)."""
    for path, imported in import_graph().items():
        own = kind_of_file(path)
        kinds = {kind_of_file(p) for p in imported} - {None}
        if own is not None:
            assert kinds <= {own}, f"{path.relative_to(ROOT)} ({own}) imports another kind's files: {kinds - {own}}"
        else:
            assert not kinds, f"shared {path.relative_to(ROOT)} imports the kinds {sorted(kinds)}"


FLOORS = {
    "core": 1,
    "data": 2,
    "engine": 2,
    "models": 2,
    "evaluation": 2,
    "versioning": 2,
    "applications": 3,
    "registry": 4,
    "kinds": 5,
    "commands": 6,
}
"""components/' packages from the ground up (what docs/architecture.md draws): a file imports its own floor's code
and the floors below, never one above. A kind's stages are entry points on the kinds' floor."""


def floor(path: Path) -> int:
    return FLOORS[path.relative_to(COMPONENTS).parts[0]] if len(path.relative_to(COMPONENTS).parts) > 1 else 0


def test_every_package_of_components_has_a_floor():
    packages = {p.name for p in COMPONENTS.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages == set(FLOORS)


def test_no_import_runs_back_up_a_floor():
    upward = sorted(
        f"{path.relative_to(ROOT)} -> {target.relative_to(ROOT)}"
        for path, imported in import_graph().items()
        for target in imported
        if floor(target) > floor(path)
    )
    assert not upward, upward


def test_no_model_family_imports_another():
    families = {KINDS / name for name in FAMILY_FILES}
    for path in families:
        others = sorted(p.name for p in direct_imports(path) & families)
        assert not others, f"{path.name} imports the families {others}"


def test_every_family_implements_the_one_contract():
    assert sorted(FAMILIES) == ["bsvae", "lm", "transformer_lm", "vqvae"]
    for name, family in FAMILIES.items():
        assert family.name == name and issubclass(family.model, TextModel), name
        assert not family.model.__abstractmethods__ and family.model.latent_kind in ("gaussian", "discrete", "none")


def test_every_translation_family_implements_the_translation_contract():
    assert sorted(TRANSLATION_FAMILIES) == ["latent", "transformer"]
    for family, model_cls in TRANSLATION_FAMILIES.items():
        assert issubclass(model_cls, TranslationModel) and not model_cls.__abstractmethods__, family
        assert model_cls.default_decoder in model_cls.decoders
        assert set(model_cls.decoders) <= {"greedy", "beam", "latent"}


def stage_modules() -> dict[str, Path]:
    """Each dvc.yaml stage -> the stage module its command runs (python/torchrun -m components.stages.X)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    found = {}
    for name, stage in stages.items():
        words = stage["cmd"].split()
        module = words[words.index("-m") + 1]
        found[name] = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    return found


@pytest.mark.parametrize("stage", sorted(stage_modules()))
def test_dvc_yaml_code_deps_cover_every_file_the_stage_imports(stage):
    """Editing any file a stage imports (transitively) must make `dvc repro` re-run that stage."""
    deps = [ROOT / d for d in yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"][stage]["deps"]]
    module = stage_modules()[stage]
    assert module.is_file(), f"{stage}: {module} does not exist"
    missing = sorted(
        str(p.relative_to(ROOT)) for p in transitive_imports(module) if not any(p == d or d in p.parents for d in deps)
    )
    assert not missing, f"dvc.yaml stage {stage!r} lacks deps on {missing}"


def test_dvc_yaml_code_deps_are_exactly_the_imports():
    """... and no more: a stage lists the files it imports (a directory only when it imports all of its files), so
    editing one kind's file re-runs that kind's stages alone. `python -m components.commands.code_deps` rewrites
    them."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    assert stale_stages(ROOT, stages) == {}


@pytest.mark.parametrize(
    "edited,kind",
    [
        ("components/kinds/images/models/dcgan.py", "images"),
        ("components/kinds/translation/models/latent_translator.py", "translation"),
        ("components/kinds/text/models/bsvae.py", "text"),
    ],
)
def test_a_kind_s_own_file_is_a_dep_of_that_kind_s_stages_only(edited, kind):
    from components.applications.kind import kind_named

    apps = {app.name for app in kind_named(kind).shipped}
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    depending = {
        name
        for name, stage in stages.items()
        if any(edited == d or edited.startswith(str(d).rstrip("/") + "/") for d in stage["deps"])
    }
    assert depending and all(name.split("-")[0] in apps for name in depending), depending


def test_every_image_family_implements_the_image_contract():
    assert sorted(IMAGE_FAMILIES) == ["bsvae", "gan", "vae", "vqvae"]
    for family, model_cls in IMAGE_FAMILIES.items():
        assert issubclass(model_cls, ImageModel) and not model_cls.__abstractmethods__, family


TOP_LEVEL_TESTS = {
    "test_architecture.py",
    "test_readme.py",
    "test_own_data.py",
    "test_points_kind.py",
    "test_cpu_reproducibility.py",
}
"""Tests of the whole: the layering itself, the docs, own data through every application, a kind defined here, and
components/__init__.py's own settings (MKL's reproducibility)."""
SUPPORT = {"data", "artifacts", "points_kind"}
"""tests/' own folders that are no mirror: real data slices, recorded artifacts, the toy kind."""


def test_tests_mirror_the_package_layout():
    """tests/<path>/test_x.py tests what lives at components/<path>/ (or flows/, deploy/, benchmarks/), so the
    tests of a module are found where the module is."""
    tests = ROOT / "tests"
    for path in sorted(tests.rglob("test_*.py")):
        folder = path.parent.relative_to(tests)
        if folder == Path("."):
            assert path.name in TOP_LEVEL_TESTS, f"{path.name}: put it in the folder that mirrors what it tests"
            continue
        if folder.parts[0] in SUPPORT - {"data"}:
            continue
        mirrored = [ROOT / "components" / folder, ROOT / folder]
        assert any(p.is_dir() for p in mirrored), f"tests/{folder}/ mirrors no package ({path.name})"
