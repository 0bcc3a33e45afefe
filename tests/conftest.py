"""Shared test helpers: run the repo's scripts as a user would, in a scratch working directory."""

from __future__ import annotations

import importlib.util
import os
import signal
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
# A suite started as a background job of a non-interactive shell (`./.ci/run &`) inherits SIGINT
# ignored, and so would every script it starts: the Ctrl+C tests would wait forever. A handler here
# (not "ignore") gives the children the default again, so they turn SIGINT into KeyboardInterrupt.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# Mesa's llvmpipe (the 3-D videos' software OpenGL) and triton (in the 3.12 venv's CUDA torch) each bring their own
# LLVM, and loading triton after Mesa in one process segfaults (in triton/knobs.py). The scripts build PPO, whose
# optimizer imports torch._dynamo and so triton, before they draw a frame; a test process that draws one first
# (test_ant.py's video test, before any PPO) would not, so triton is loaded here first wherever it is installed.
if importlib.util.find_spec("triton") is not None:
    import triton  # noqa: F401


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


#: the checkpoint of :func:`balanced_run` the export and video tests play
BALANCED_MODEL = "model.zip"


@pytest.fixture(scope="session")
def balanced_run(tmp_path_factory) -> Path:
    """A run folder whose :data:`BALANCED_MODEL` balances the pole: the README's default command's run.

    Isaac-Cartpole-v0 trained as the default command trains it (the task's agent config, its full
    budget and its stop at an evaluation of 4.9, seed 42), in this process; shared by the export and 3-D
    video tests. That recipe is the one measured: benchmark 8 (docs/benchmarks.md), seeds 0-19, 20
    episodes each: its ``model.zip`` played 4.823 for the worst seed (18), 4.829 for the next, >= 4.92 for
    the other 18; the tests that play it take their bound from that (4.0: failing policies play 0-2). (With
    ``normalize_input: true`` added it is not: of seeds 0-6, 2 never learned (best models 0.93 and
    0.70) and the model.zip of 2 more played 4.17 and 3.76; the export tests of VecNormalize use a
    short run of their own.)
    """
    from isaaclab_trainer.tasks import load_agent_cfg, load_env_cfg
    from isaaclab_trainer.train.trainer import make_env, run_learning, setup_training

    task = "Isaac-Cartpole-v0"
    run_dir = tmp_path_factory.mktemp("balanced") / "logs" / "sb3" / task / "2026-01-01_00-00-00"
    env_cfg = load_env_cfg(task)
    env = make_env(task, env_cfg)
    try:
        run_learning(setup_training(env, task, env_cfg, load_agent_cfg(task), run_dir, summary_write=None))
    finally:
        env.close()
    assert (run_dir / BALANCED_MODEL).is_file()
    return run_dir


@pytest.fixture(scope="session")
def kit_python() -> Path:
    """Python of a real Kit 110.4 (made once under ``.venv-kit``, see ``tests/kit_harness.py``); skips the
    test where the kernel cannot run (it is a Python 3.12, Linux x86_64 wheel)."""
    from kit_harness import ensure_kit_python, kit_skip_reason

    reason = kit_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    return ensure_kit_python()
