"""Imports walk one way, down the layers, and only ``isaaclab_trainer/kit/`` imports Kit.

1. AST scan of every .py under the package and scripts/ (discovered at test time, so new modules are
   covered automatically):
   * direction: no module imports a layer above its own (``LAYERS``), at module level, inside a
     function or under ``TYPE_CHECKING`` alike; relative imports are resolved first;
   * outside ``isaaclab_trainer/kit/``: no ``omni``/``carb``/``isaacsim`` import anywhere, except in
     the scripts listed in ``LAUNCHER_SCRIPTS``, and there only inside a function body; those scripts
     import ``isaaclab_trainer.kit`` (whose modules import Kit) only inside a function body too.
2. A subprocess where ``omni``, ``carb`` and ``isaacsim`` cannot be imported imports every non-kit
   module of the package. ``ray`` is blocked too: it is the optional ``[ray]`` extra for sweeps, which
   Isaac Sim's python (the Kit extension) does not have.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "exts" / "isaaclab_trainer"
PKG = EXT / "isaaclab_trainer"
KIT = PKG / "kit"
SCRIPTS = ROOT / "scripts"
KIT_ROOTS = {"omni", "carb", "isaacsim"}
#: scripts that start Isaac Sim themselves (SimulationApp) and may import Kit inside functions only
LAUNCHER_SCRIPTS = {
    "scripts/reinforcement_learning/sb3/train.py",
    "scripts/reinforcement_learning/sb3/play.py",
}


#: the package's layers, lowest first: data walks front end -> view-model -> session -> SB3 (train)
#: -> wrapper -> env (tasks, envs) -> physics backend (sim); the scripts sit on top of everything
LAYERS = (
    ("isaaclab_trainer.utils",),
    ("isaaclab_trainer.sim",),
    ("isaaclab_trainer.envs",),
    ("isaaclab_trainer.tasks", "isaaclab_trainer"),  # the package root registers the tasks
    ("isaaclab_trainer.wrappers",),
    ("isaaclab_trainer.train",),
    ("isaaclab_trainer.session",),
    ("isaaclab_trainer.ui",),
    ("isaaclab_trainer.kit",),
    ("scripts",),
)


def _layer(module: str) -> int | None:
    """Index in LAYERS of the longest prefix of ``module``; None outside the package and scripts."""
    best, found = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), i
    return found


def _python_files() -> list[Path]:
    files = sorted(PKG.rglob("*.py"))
    if SCRIPTS.is_dir():
        files += sorted(SCRIPTS.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def _imports(tree: ast.AST, package: str = ""):
    """Yield (module name, inside_function) for every import statement; relative ones resolved against ``package``."""

    def visit(node: ast.AST, in_func: bool):
        for child in ast.iter_child_nodes(node):
            func = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, in_func
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - child.level + 1] if child.level else []
                module = ".".join([*base, child.module] if child.module else base)
                yield module, in_func
                for alias in child.names:
                    yield f"{module}.{alias.name}", in_func
            yield from visit(child, func)

    yield from visit(tree, False)


def _own_module(path: Path) -> str:
    """Dotted name of a package file (``isaaclab_trainer.x.y``), or ``scripts.…`` for a script."""
    if _is_under(path, PKG):
        return _module_name(path)
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _is_under(path: Path, folder: Path) -> bool:
    return folder == path or folder in path.parents


def test_files_are_discovered():
    files = _python_files()
    assert any(_is_under(f, KIT) for f in files) and any(not _is_under(f, KIT) for f in files)


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_kit_imports_stay_in_kit_package(path: Path):
    if _is_under(path, KIT):
        return
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for name, in_func in _imports(tree):
        root = name.split(".")[0]
        if root in KIT_ROOTS and not (rel in LAUNCHER_SCRIPTS and in_func):
            where = "inside a function" if in_func else "at module level"
            problems.append(f"imports {name} {where}")
        if (name == "isaaclab_trainer.kit" or name.startswith("isaaclab_trainer.kit.")) and not in_func:
            problems.append(f"imports {name} at module level (only lazily, inside a function)")
    assert not problems, f"{rel}: " + "; ".join(problems)


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_a_layer_above_its_own(path: Path):
    own = _own_module(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    own_layer = _layer(own)
    assert own_layer is not None, f"{own} is in no layer of LAYERS: add it"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    upward = sorted(
        {name for name, _ in _imports(tree, package) if (_layer(name) or 0) > own_layer and _layer(name) is not None}
    )
    assert not upward, f"{own} (layer {LAYERS[own_layer][0]}) imports a layer above it: {', '.join(upward)}"


def test_direction_check_catches_an_upward_import():
    tree = ast.parse("def f():\n    from ...kit.backends import PhysxBackend\n")
    names = [name for name, _ in _imports(tree, "isaaclab_trainer.sim.backends")]
    assert "isaaclab_trainer.kit.backends" in names
    assert _layer("isaaclab_trainer.kit.backends") > _layer("isaaclab_trainer.sim.backends.registry")


BLOCKER = """
import importlib, importlib.abc, json, sys
BLOCKED = {"omni", "carb", "isaacsim", "ray"}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in the Kit-free import test")
        return None

sys.meta_path.insert(0, Block())
failures = {}
for mod in json.loads(sys.argv[1]):
    try:
        importlib.import_module(mod)
    except BaseException as exc:
        failures[mod] = f"{type(exc).__name__}: {exc}"
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({"failures": failures, "leaked": leaked}))
"""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(EXT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _run_blocked(modules: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, json.dumps(modules)],
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        env={**_env(), "PYTHONPATH": str(EXT)},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env() -> dict:
    import os

    return dict(os.environ)


def test_every_non_kit_module_imports_without_kit():
    files = [p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts and not _is_under(p, KIT)]
    modules = sorted({_module_name(p) for p in files})
    assert "isaaclab_trainer" in modules and "isaaclab_trainer.ui.view_model" in modules
    result = _run_blocked(modules)
    assert result["failures"] == {}
    assert result["leaked"] == []


def test_blocker_really_blocks_the_kit_shell():
    result = _run_blocked(["isaaclab_trainer.kit.extension"])
    assert "isaaclab_trainer.kit.extension" in result["failures"]
    assert "blocked" in result["failures"]["isaaclab_trainer.kit.extension"]
