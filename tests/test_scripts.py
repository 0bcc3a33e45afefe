"""train.py and play.py end to end, as the seed tutorial runs them (short budgets)."""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import PLAY, REPO, TRAIN, run_script

SUMMARY = re.compile(r"^episodes: (\d+)  mean return: (-?\d+\.\d{3})  mean length: (\d+(\.\d+)?)$", re.M)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One short headless training run (2 PPO iterations of 16 envs) in a scratch folder."""
    cwd = tmp_path_factory.mktemp("train")
    res = run_script(
        TRAIN, "--task", "Isaac-Cartpole-v0", "--num_envs", "16", "--headless", "--max_iterations", "2", cwd=cwd
    )
    assert res.returncode == 0, res.stderr
    return cwd


def run_dir_of(cwd: Path) -> Path:
    (run,) = (cwd / "logs" / "sb3" / "Isaac-Cartpole-v0").iterdir()
    return run


def test_train_writes_isaac_lab_run_layout(trained):
    run = run_dir_of(trained)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}", run.name)
    for name in ("params/env.yaml", "params/agent.yaml", "command.txt", "model.zip"):
        assert (run / name).is_file(), name
    assert "train.py" in (run / "command.txt").read_text()
    assert "num_envs: 16" in (run / "params" / "env.yaml").read_text()
    with zipfile.ZipFile(run / "model.zip") as z:
        assert {"data", "policy.pth"} <= set(z.namelist())


def test_tensorboard_reader_sees_the_curves(trained):
    (events_dir,) = run_dir_of(trained).glob("PPO_*")
    acc = EventAccumulator(str(events_dir))
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert "rollout/ep_rew_mean" in scalars or "train/loss" in scalars
    steps = [e.step for e in acc.Scalars("train/loss")]
    assert steps[-1] == 512  # 2 iterations x 16 steps x 16 envs


def test_play_reports_summary_line(trained):
    res = run_script(
        PLAY, "--task", "Isaac-Cartpole-v0", "--num_envs", "8", "--headless", "--num_episodes", "4", cwd=trained
    )
    assert res.returncode == 0, res.stderr
    (match,) = SUMMARY.findall(res.stdout)
    episodes, mean_return, mean_length = int(match[0]), float(match[1]), float(match[2])
    assert episodes == 4 and 1 <= mean_length <= 300  # Isaac-Cartpole-v0 times out after 300 steps
    # no step earns more than rew_alive (1) x step_dt (1/60 s): the other terms are penalties
    assert mean_return <= mean_length / 60 + 0.001


def test_video_clips_are_written(trained):
    (trained / "v").mkdir()
    res = run_script(
        TRAIN,
        "--num_envs",
        "4",
        "--headless",
        "--max_iterations",
        "1",
        "--video",
        "--video_length",
        "10",
        "--video_interval",
        "1000",
        cwd=trained / "v",
    )
    assert res.returncode == 0, res.stderr
    clips = list((trained / "v").glob("logs/sb3/Isaac-Cartpole-v0/*/videos/train/*.mp4"))
    assert clips and clips[0].stat().st_size > 1000
    res = run_script(PLAY, "--num_envs", "2", "--headless", "--video", "--video_length", "10", cwd=trained / "v")
    assert res.returncode == 0, res.stderr
    assert list((trained / "v").glob("logs/sb3/Isaac-Cartpole-v0/*/videos/play/*.mp4"))


BEST_LINE = re.compile(
    r"^\[INFO\] Best model \(mean return (-?\d+\.\d{3}) over 4 episodes without exploration noise, at ([\d,]+) "
    r"timesteps; evaluations took \d+\.\d s, \d+\.\d % of the run\): (.+)$",
    re.M,
)


def test_best_model_is_kept_named_and_played(tmp_path):
    """A run keeps model_best.zip and its statistics: the evaluation with the best mean return (TensorBoard's
    eval/mean_reward), named in train.py's log; play.py and export.py take it as --checkpoint best."""
    import yaml

    from isaaclab_trainer.tasks import load_agent_cfg

    export = REPO / "scripts" / "reinforcement_learning" / "sb3" / "export.py"
    res = run_script(PLAY, "--checkpoint", "best", "--headless", cwd=tmp_path)
    assert res.returncode == 2
    log_root = tmp_path.resolve() / "logs" / "sb3" / "Isaac-Cartpole-v0"
    assert res.stderr == f"play.py: error: no run with a model_best.zip under {log_root}; train first or give a path\n"

    agent = tmp_path / "agent.yaml"  # an evaluation at the end of each of the 3 rollouts of 256 timesteps
    cfg = {**load_agent_cfg("Isaac-Cartpole-v0"), "normalize_input": True, "eval_interval": 256, "eval_episodes": 4}
    agent.write_text(yaml.safe_dump(cfg))
    args = ("--num_envs", "16", "--headless", "--max_iterations", "3", "--agent", str(agent))
    res = run_script(TRAIN, *args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (match,) = BEST_LINE.findall(res.stdout)
    run = run_dir_of(tmp_path)
    assert Path(match[2]) == run / "model_best.zip" and (run / "model_vecnormalize_best.pkl").is_file()
    (events_dir,) = run.glob("PPO_*")
    acc = EventAccumulator(str(events_dir))
    acc.Reload()
    evals = [(e.step, e.value) for e in acc.Scalars("eval/mean_reward")]
    assert [step for step, _ in evals] == [256, 512, 768]
    step, value = max(evals, key=lambda e: e[1])
    assert float(match[0]) == pytest.approx(value, abs=1e-3) and int(match[1].replace(",", "")) == step

    for script, args in ((PLAY, ("--num_envs", "4", "--num_episodes", "2", "--headless")), (export, ())):
        res = run_script(script, "--checkpoint", "best", *args, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert f"[INFO] Loading model checkpoint from: {run / 'model_best.zip'}" in res.stdout


STOP_LINE = re.compile(
    r"^\[INFO\] Stopped at 256 timesteps: evaluation mean return (-?\d+\.\d{3}) >= -1000 \(stop_at_eval_return\)$", re.M
)


def test_stop_at_eval_return_ends_the_run_on_the_evaluated_policy(tmp_path):
    """stop_at_eval_return ends training at the first evaluation that reaches it (SB3's
    StopTrainingOnRewardThreshold); model.zip, the --use_last_checkpoint pick and model_best.zip are then
    the policy that evaluation measured, and train.py's log and the run's state say why it ended."""
    import json

    import torch
    import yaml

    from isaaclab_trainer.tasks import load_agent_cfg
    from isaaclab_trainer.train.runs import latest_checkpoint

    # a threshold every evaluation reaches (cartpole's returns start near -12): the first, at 256 timesteps,
    # ends a budget of 3 rollouts; checkpoints every 64,000 timesteps would have written none by then
    agent = tmp_path / "agent.yaml"
    cfg = {**load_agent_cfg("Isaac-Cartpole-v0"), "normalize_input": True, "eval_interval": 256, "eval_episodes": 4}
    cfg["stop_at_eval_return"] = -1000
    agent.write_text(yaml.safe_dump(cfg))
    res = run_script(
        TRAIN, "--num_envs", "16", "--headless", "--max_iterations", "3", "--agent", str(agent), cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    (stopped_return,) = STOP_LINE.findall(res.stdout)
    (best,) = BEST_LINE.findall(res.stdout)
    assert best[0] == stopped_return and best[1] == "256"
    run = run_dir_of(tmp_path)
    state = json.loads((run / "run_state.json").read_text())
    assert state["state"] == "finished" and f"[INFO] {state['stopped']}" == STOP_LINE.search(res.stdout)[0]
    assert yaml.safe_load((run / "params" / "agent.yaml").read_text())["stop_at_eval_return"] == -1000

    assert latest_checkpoint("Isaac-Cartpole-v0", tmp_path / "logs") == run / "model_256_steps.zip"
    assert (run / "model_vecnormalize_256_steps.pkl").is_file()
    policies = []
    for name in ("model.zip", "model_256_steps.zip", "model_best.zip"):
        with zipfile.ZipFile(run / name) as z:
            policies.append(torch.load(z.open("policy.pth"), weights_only=True))
            assert json.loads(z.read("data"))["num_timesteps"] == 256, name
    for other in policies[1:]:
        assert other.keys() == policies[0].keys()
        assert all(torch.equal(other[k], policies[0][k]) for k in other)
    (events_dir,) = run.glob("PPO_*")
    acc = EventAccumulator(str(events_dir))
    acc.Reload()
    assert [(e.step, round(e.value, 3)) for e in acc.Scalars("eval/mean_reward")] == [(256, float(stopped_return))]
    assert "train/loss" not in acc.Tags()["scalars"]  # stopped before the first update


def test_isaaclab_sh_sim_without_isaac_sim_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ISAACSIM_PATH"}
    env["PATH"] = "/usr/bin:/bin"  # no isaacsim launcher
    res = subprocess.run([str(REPO / "isaaclab.sh"), "-s"], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        "[isaaclab.sh] error: no Isaac Sim found: set ISAACSIM_PATH to an Isaac Sim 6.x or 5.1 install, or "
        "'pip install isaacsim[all,extscache]==6.*' (Python 3.12) or '==5.1.*' (Python 3.11)"
    ]


def _fake_launcher(path: Path) -> Path:
    """A stand-in for Isaac Sim's launcher that prints the arguments it was given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\necho "launched: $*"\n')
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("version", ["6.0.1-rc.7+release.1234.abcd", "5.1.0-rc.19"])
def test_isaaclab_sh_sim_finds_isaacsim_path_install(tmp_path, version):
    """An install folder (binary zip, or a 6.x source build's _build/linux-x86_64/release) with isaac-sim.sh."""
    _fake_launcher(tmp_path / "isaac-sim.sh")
    (tmp_path / "VERSION").write_text(version + "\n")
    env = {**os.environ, "ISAACSIM_PATH": str(tmp_path)}
    res = subprocess.run([str(REPO / "isaaclab.sh"), "-s", "--no-window"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"[isaaclab.sh] Isaac Sim {version}: {tmp_path / 'isaac-sim.sh'}",
        f"launched: --ext-folder {REPO / 'exts'} --enable isaaclab_trainer --no-window",
    ]
    assert res.stderr == ""


def test_isaaclab_sh_sim_finds_pip_isaacsim_and_warns_on_other_versions(tmp_path):
    """The pip package's ``isaacsim`` console script, started with the full app experience."""
    bin_dir = tmp_path / "venv" / "bin"
    _fake_launcher(bin_dir / "isaacsim")
    (bin_dir / "python").write_text("#!/bin/sh\necho 4.5.0\n")  # what importlib.metadata would report
    (bin_dir / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "ISAACSIM_PATH"}
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    res = subprocess.run([str(REPO / "isaaclab.sh"), "-s"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == (
        f"launched: isaacsim.exp.full --ext-folder {REPO / 'exts'} --enable isaaclab_trainer"
    )
    assert "Isaac Sim '4.5.0' found; this extension is checked against 5.1 and 6.0-6.2" in res.stderr
