"""Shared test helpers: run the repo's scripts as a user would, in a scratch working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO / "scripts" / "reinforcement_learning" / "sb3" / "train.py"
PLAY = REPO / "scripts" / "reinforcement_learning" / "sb3" / "play.py"
# the scripts import their glue (cli_args.py) from their own folder, as Python puts it on sys.path
# for a script; tests that run them in-process (runpy) need it there too
sys.path.insert(0, str(TRAIN.parent))


def run_script(script: Path, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python script args`` in ``cwd`` (logs land in ``cwd/logs``), capturing its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch folder standing in for the user's current directory."""
    return tmp_path
