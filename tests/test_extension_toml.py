"""config/extension.toml is a valid Kit manifest that matches the files on disk."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "exts" / "isaaclab_trainer"
#: packages that must never be pip-installed into Kit's Python (Kit ships its own pxr/warp; no Newton)
HEADLESS_ONLY = {"usd-core", "newton", "warp-lang", "warp", "newton-usd-schemas", "mujoco-warp"}
#: what Isaac Sim 5.1 and 6.x ship in Kit's Python (IsaacSim deps/pip_ml.toml: torch and its dependencies;
#: deps/pip.toml: packaging, pyyaml; Kit's Python: numpy, setuptools)
ISAAC_SIM_PROVIDES = {"torch", "numpy", "packaging", "pyyaml", "setuptools"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return tomllib.loads((EXT / "config" / "extension.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((EXT / "pyproject.toml").read_text(encoding="utf-8"))


def test_package_metadata(manifest, pyproject):
    pkg = manifest["package"]
    assert pkg["title"] == "Isaac Lab Trainer"
    assert pkg["version"] == pyproject["project"]["version"]
    for key in ("description", "category", "keywords"):
        assert pkg[key], key


@pytest.mark.parametrize("key", ["icon", "preview_image", "readme", "changelog"])
def test_referenced_files_exist(manifest, key):
    path = EXT / manifest["package"][key]
    assert path.is_file(), path
    if path.suffix == ".png":
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert path.read_text(encoding="utf-8").strip()


def test_python_modules_exist_on_disk(manifest):
    modules = [m["name"] for m in manifest["python"]["module"]]
    assert "isaaclab_trainer.kit.extension" in modules
    for name in modules:
        base = EXT.joinpath(*name.split("."))
        assert base.with_suffix(".py").is_file() or (base / "__init__.py").is_file(), name
    # only the Kit shell is loaded by Kit, never the top-level package (that would need no Kit)
    assert all(n.startswith("isaaclab_trainer.kit") for n in modules)


def _requirement_names(reqs: list[str]) -> dict[str, str]:
    return {Requirement(r.split(" --")[0]).name.lower().replace("_", "-"): r for r in reqs}


def test_pipapi_has_training_deps_and_no_headless_engines(manifest):
    names = _requirement_names(manifest["python"]["pipapi"]["requirements"])
    assert {"stable-baselines3", "tensorboard", "gymnasium"} <= set(names)
    assert not set(names) & HEADLESS_ONLY


def test_pipapi_cannot_pull_a_second_torch_or_numpy(manifest, pyproject):
    """Kit's pipapi installs with ``pip install <entry> -t <folder>``, blind to what Isaac Sim ships: every entry
    is ``--no-deps``, and the listed packages plus Isaac Sim's own cover the package's whole dependency closure
    (read from the installed distributions' metadata)."""
    reqs = manifest["python"]["pipapi"]["requirements"]
    assert all(r.endswith(" --no-deps") for r in reqs), reqs
    # entries are not module names: without this, pipapi's import check fails after pip (docs/kit_api.toml)
    assert manifest["python"]["pipapi"]["ignore_import_check"] is True
    names = _requirement_names(reqs)
    assert not set(names) & ISAAC_SIM_PROVIDES
    todo = [Requirement(r).name for r in pyproject["project"]["dependencies"]]
    seen: set[str] = set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen or name in ISAAC_SIM_PROVIDES:
            continue
        seen.add(name)
        assert name in names, f"{name} is needed in Kit but not in [python.pipapi] (nor shipped by Isaac Sim)"
        for raw in importlib.metadata.distribution(name).requires or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    assert seen == set(names), f"listed but not needed: {sorted(set(names) - seen)}"


def test_dependencies_are_kit_extensions(manifest):
    deps = manifest["dependencies"]
    assert "omni.physx" in deps and "omni.physics.tensors" in deps and "omni.kit.menu.utils" in deps
    assert "isaacsim.core.simulation_manager" in deps  # engine query and switch (5.1 and 6.x)
    assert all(isinstance(v, dict) for v in deps.values())
    # Isaac Sim 6.x only: optional, so that the extension enables in 5.1 too
    optional = {name for name, spec in deps.items() if spec.get("optional")}
    assert optional == {"isaacsim.physics.newton", "isaacsim.physics.newton.tensors"}


def test_pipapi_is_a_dependency(manifest):
    """Kit handles ``[python.pipapi]`` only for extensions loaded after omni.kit.pipapi (its docs, Extension
    Config): without the dependency, an app that has not loaded pipapi first imports the extension before its
    training packages are installed (real Kit: "No module named 'gymnasium'", tests/test_kit_real.py)."""
    assert manifest["python"]["pipapi"]["requirements"]
    assert manifest["dependencies"].get("omni.kit.pipapi") == {}


def test_headless_test_entry(manifest):
    (test,) = manifest["test"]
    assert "omni.kit.ui_test" in test["dependencies"]
    for arg in (
        "--/app/runLoops/main/manualModeEnabled=true",
        "--/app/asyncRendering=0",
        "--reset-user",
        "--/app/file/ignoreUnsavedStage=1",  # Isaac Sim 6.x's set
        "--/app/file/ignoreUnsavedOnExit=1",  # Isaac Sim 5.1's set
    ):
        assert arg in test["args"]
    assert test["timeout"] >= 300
