"""Static checks that stand in for running Kit: a typo in a Kit-only module fails here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def _tool(name: str) -> list[str]:
    """``name`` from the running interpreter's venv (either leg's, .venv or .venv-py312), else from PATH."""
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is not installed (it is in the package's [test] extra)")
    return [exe]


def test_ruff_clean():
    res = subprocess.run([*_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_on_kit_shell_and_view_model():
    res = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
