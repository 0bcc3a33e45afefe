"""config/extension.toml is a valid Kit manifest that matches the files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "exts" / "isaaclab_trainer"
#: packages that must never be pip-installed into Kit's Python (Kit ships its own pxr/warp; no Newton)
HEADLESS_ONLY = {"usd-core", "newton", "warp-lang", "warp", "newton-usd-schemas", "mujoco-warp"}


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


def test_pipapi_has_training_deps_and_no_headless_engines(manifest):
    reqs = manifest["python"]["pipapi"]["requirements"]
    names = {
        r.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].split("~")[0].strip().lower()
        for r in reqs
    }
    assert {"stable-baselines3", "tensorboard", "gymnasium"} <= names
    assert not names & HEADLESS_ONLY


def test_dependencies_are_kit_extensions(manifest):
    deps = manifest["dependencies"]
    assert "omni.physx" in deps and "omni.physics.tensors" in deps and "omni.kit.menu.utils" in deps
    assert all(isinstance(v, dict) for v in deps.values())


def test_headless_test_entry(manifest):
    (test,) = manifest["test"]
    assert "omni.kit.ui_test" in test["dependencies"]
    for arg in ("--/app/runLoops/main/manualModeEnabled=true", "--/app/asyncRendering=0", "--reset-user"):
        assert arg in test["args"]
    assert test["timeout"] >= 300
