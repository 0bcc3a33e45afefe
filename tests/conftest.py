"""Shared test helpers: run the repo's scripts as a user would, in a scratch working directory."""

from __future__ import annotations

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


#: the checkpoint of :func:`balanced_run` the export and video tests use
BALANCED_MODEL = "model_best.zip"
#: mean return (16 episodes, no exploration noise) the best model of :func:`balanced_run` must reach
BALANCED_EVAL = 4.8
#: seeds :func:`balanced_run` trains in turn until one reaches :data:`BALANCED_EVAL`
BALANCED_SEEDS = (42, 1, 0)


@pytest.fixture(scope="session")
def balanced_run(tmp_path_factory) -> Path:
    """A run folder whose :data:`BALANCED_MODEL` balances the pole, trained with VecNormalize on observations.

    Isaac-Cartpole-v0 trained as the README's default command trains it (the task's agent config and
    its full budget) plus ``normalize_input: true``, in this process; shared by the export and 3-D
    video tests. With normalized observations that recipe does not always learn: measured over
    seeds on a 2-core machine, BALANCED_NOTE. So the fixture asserts what it hands over: it trains
    seed after seed of :data:`BALANCED_SEEDS` until a run's best model (measured by the run itself,
    without exploration noise) reaches :data:`BALANCED_EVAL`, and fails naming every seed's value if
    none does.
    """
    import shutil

    from isaaclab_trainer.tasks import load_agent_cfg, load_env_cfg
    from isaaclab_trainer.train.trainer import make_env, run_learning, setup_training

    task = "Isaac-Cartpole-v0"
    run_dir = tmp_path_factory.mktemp("balanced") / "logs" / "sb3" / task / "2026-01-01_00-00-00"
    reached = {}
    for seed in BALANCED_SEEDS:
        env_cfg = load_env_cfg(task)
        env_cfg.seed = seed
        agent_cfg = {**load_agent_cfg(task), "normalize_input": True, "seed": seed}
        env = make_env(task, env_cfg)
        try:
            setup = setup_training(env, task, env_cfg, agent_cfg, run_dir, summary_write=None)
            run_learning(setup)
        finally:
            env.close()
        reached[seed] = setup.best.best_mean_reward if setup.best is not None else None
        if reached[seed] is not None and reached[seed] >= BALANCED_EVAL:
            assert (run_dir / "model_vecnormalize_best.pkl").is_file()
            return run_dir
        shutil.rmtree(run_dir)  # the next seed's run takes its place (export.py picks the newest run)
    raise AssertionError(f"no seed's best model reached {BALANCED_EVAL}: {reached}")
