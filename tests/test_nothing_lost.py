"""Nothing lost: atomic checkpoints written with their VecNormalize statistics, a model saved on
Ctrl+C / Stop / close, at most one checkpoint interval lost to kill -9, and resume continuing the
step count and the TensorBoard curve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import REPO, TRAIN, run_script
from isaaclab_trainer.session import RenderMode, SessionState, TrainingSession
from isaaclab_trainer.tasks import load_env_cfg
from isaaclab_trainer.train import callbacks
from isaaclab_trainer.train.callbacks import save_checkpoint
from isaaclab_trainer.train.checkpoints import load_vecnormalize_stats
from isaaclab_trainer.train.checks import check_checkpoint
from isaaclab_trainer.train.player import load_policy
from isaaclab_trainer.train.runs import checkpoint_steps, latest_checkpoint, vecnormalize_path
from isaaclab_trainer.train.trainer import make_env

TASK = "Isaac-Cartpole-v0"
NUM_ENVS = 16
ROLLOUT = 16 * NUM_ENVS  # n_steps x envs
AGENT_YAML = (REPO / "config" / "agents" / "sb3_ppo_cartpole.yaml").read_text()


def agent_yaml(d: Path) -> Path:
    """The task's agent config, checkpointing every rollout, with normalized observations."""
    path = d / "agent.yaml"
    cfg = yaml.safe_load(AGENT_YAML) | {"checkpoint_interval": ROLLOUT, "normalize_input": True}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def start_train(cwd: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, str(TRAIN), "--num_envs", str(NUM_ENVS), "--headless", "--agent", str(agent_yaml(cwd))]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([*cmd, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"train.py ended early: {proc.communicate()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.05)


def runs_of(cwd: Path) -> list[Path]:
    root = cwd / "logs" / "sb3" / TASK
    return sorted(root.iterdir()) if root.is_dir() else []


def periodic(cwd: Path) -> list[Path]:
    return [p for run in runs_of(cwd) for p in run.glob("model_*_steps.zip")]


def num_timesteps(model_zip: Path) -> int:
    with zipfile.ZipFile(model_zip) as z:
        return int(json.loads(z.read("data"))["num_timesteps"])


@pytest.fixture(scope="module")
def env():
    cfg = load_env_cfg(TASK)
    cfg.num_envs = 4
    env = make_env(TASK, cfg)
    yield env
    env.close()


# -- atomic writes -------------------------------------------------------------------------------


class FakeModel:
    """Just enough of an SB3 model for save_checkpoint."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def get_vec_normalize_env(self):
        return self

    def save(self, path):  # VecNormalize.save and BaseAlgorithm.save both take a path
        Path(path).write_bytes(b"partial")
        if self.fail and ".zip." in Path(path).name:  # the model, not its statistics
            raise OSError(28, "No space left on device")


def test_checkpoint_and_statistics_written_together(tmp_path):
    path = save_checkpoint(FakeModel(), tmp_path / "model_256_steps.zip")
    assert path.is_file() and vecnormalize_path(path).is_file()
    assert vecnormalize_path(path).name == "model_vecnormalize_256_steps.pkl"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model_256_steps.zip", "model_vecnormalize_256_steps.pkl"]


def test_failed_write_leaves_no_partial_checkpoint(tmp_path):
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(FakeModel(fail=True), tmp_path / "model_512_steps.zip")
    assert not list(tmp_path.glob("model_*_steps.zip"))
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was removed


def test_statistics_renamed_before_the_model(tmp_path, monkeypatch):
    order = []
    real = os.replace
    monkeypatch.setattr(callbacks.os, "replace", lambda a, b: (order.append(Path(b).name), real(a, b)))
    save_checkpoint(FakeModel(), tmp_path / "model.zip")
    assert order == ["model_vecnormalize.pkl", "model.zip"]


# -- kill -9 ---------------------------------------------------------------------------------------


def test_kill_9_loses_at_most_one_interval(tmp_path, env):
    proc = start_train(tmp_path)
    wait_for(lambda: len(periodic(tmp_path)) >= 2, proc)
    # kill it while a checkpoint is being written, if we catch one within a few seconds
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3 and not any(r.glob(".*.tmp") for r in runs_of(tmp_path)):
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)

    (run,) = runs_of(tmp_path)
    found = sorted(periodic(tmp_path), key=checkpoint_steps)
    for p in found:  # every file that matches the checkpoint pattern is complete
        check_checkpoint(p)
        assert vecnormalize_path(p).is_file()
    latest = latest_checkpoint(TASK, tmp_path / "logs", use_last_checkpoint=True)
    assert latest == found[-1] and checkpoint_steps(latest) == num_timesteps(latest)
    assert not (run / "model.zip").exists()  # it really was killed
    player = load_policy(check_checkpoint(latest, TASK), env, TASK)  # loadable, with its statistics
    assert player.vec_env.obs_rms.count > 1
    player.step()


# -- Ctrl+C, then resume ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Path:
    """A train.py run stopped with Ctrl+C after two checkpoints; returns its run folder."""
    cwd = tmp_path_factory.mktemp("ctrl_c")
    proc = start_train(cwd)
    wait_for(lambda: len(periodic(cwd)) >= 2, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Saved the trained model to" in out
    (run,) = runs_of(cwd)
    return run


def test_ctrl_c_saves_the_model_with_its_statistics(interrupted, env):
    model = interrupted / "model.zip"
    checked = check_checkpoint(model, TASK)
    assert (interrupted / "model_vecnormalize.pkl").is_file()
    assert num_timesteps(model) >= 2 * ROLLOUT
    load_policy(checked, env, TASK).step()


def test_resume_continues_step_count_and_curve(interrupted, tmp_path):
    start = num_timesteps(interrupted / "model.zip")
    before = load_vecnormalize_stats(interrupted / "model_vecnormalize.pkl", (4,)).obs_rms.count
    res = run_script(
        TRAIN,
        *("--num_envs", str(NUM_ENVS), "--headless", "--max_iterations", "1"),
        *("--agent", str(agent_yaml(tmp_path)), "--checkpoint", str(interrupted / "model.zip")),
        cwd=tmp_path,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr
    (run,) = runs_of(tmp_path)
    assert num_timesteps(run / "model.zip") == start + ROLLOUT
    # the statistics went on from the checkpoint's, not from scratch
    after = load_vecnormalize_stats(run / "model_vecnormalize.pkl", (4,)).obs_rms.count
    assert after > before
    (events,) = run.glob("PPO_*")
    acc = EventAccumulator(str(events))
    acc.Reload()
    steps = [e.step for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag)]
    assert steps and min(steps) > start and max(steps) == start + ROLLOUT


def test_ctrl_c_lands_between_env_steps_never_inside_one(tmp_path, env):
    """train.py's Ctrl+C (``run_learning(ctrl_c_stops=True)``) ends learn() at the next env step: the work the
    signal arrived in (here a callback's, standing in for a TensorBoard write or a save) runs to its end,
    model.zip is saved and the run reads interrupted. A second Ctrl+C raises KeyboardInterrupt at once (the
    model is still saved)."""
    from stable_baselines3.common.callbacks import BaseCallback

    from isaaclab_trainer.tasks import load_agent_cfg
    from isaaclab_trainer.train import runs
    from isaaclab_trainer.train.trainer import run_learning, setup_training

    class CtrlCMidCallback(BaseCallback):
        def __init__(self):
            super().__init__()
            self.calls, self.finished = 0, 0

        def _on_step(self) -> bool:
            self.calls += 1
            if self.calls in (3, 5):
                signal.raise_signal(signal.SIGINT)  # its handler runs before raise_signal returns
            self.finished += 1
            return True

    cfg = load_env_cfg(TASK)
    cfg.num_envs = 4
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ctrl_c = CtrlCMidCallback()
    setup = setup_training(env, TASK, cfg, load_agent_cfg(TASK), run_dir, summary_write=None, extra_callbacks=[ctrl_c])
    before = signal.getsignal(signal.SIGINT)
    run_learning(setup, ctrl_c_stops=True)
    assert (ctrl_c.calls, ctrl_c.finished) == (3, 3)  # stopped at the step after the signal, none cut short
    assert signal.getsignal(signal.SIGINT) is before
    assert runs.run_state(run_dir) == runs.INTERRUPTED and num_timesteps(run_dir / "model.zip") == 3 * 4

    class TwoCtrlC(CtrlCMidCallback):
        def _on_step(self) -> bool:
            self.calls += 1
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)  # KeyboardInterrupt here, as before: the step is cut short
            self.finished += 1
            return True

    run_dir = tmp_path / "run2"
    run_dir.mkdir()
    twice = TwoCtrlC()
    setup = setup_training(env, TASK, cfg, load_agent_cfg(TASK), run_dir, summary_write=None, extra_callbacks=[twice])
    run_learning(setup, ctrl_c_stops=True)
    assert (twice.calls, twice.finished) == (1, 0) and signal.getsignal(signal.SIGINT) is before
    assert runs.run_state(run_dir) == runs.INTERRUPTED and (run_dir / "model.zip").is_file()


# -- the panel's Stop and closing the session -------------------------------------------------------


def test_closing_a_training_session_saves_the_model(tmp_path):
    session = TrainingSession(num_envs=8, log_root=tmp_path)
    session.build()
    session.start_training(total_timesteps=1_000_000)
    session.set_render_mode(RenderMode.NO_RENDERING)
    while session.status.timesteps < 8 * 20:
        session.update()
    run_dir = Path(session.status.run_dir)
    session.close()  # no stop() first
    assert session.status.state == SessionState.IDLE
    check_checkpoint(run_dir / "model.zip")
    assert num_timesteps(run_dir / "model.zip") >= 8 * 16
