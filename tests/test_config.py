"""Configs are data: YAML files read strictly, SB3 settings converted without eval, run layout helpers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch.nn as nn

from isaaclab_trainer.tasks import bytes_per_env, load_agent_cfg, load_env_cfg, registered_tasks
from isaaclab_trainer.tasks.cartpole.env_cfg import CartpoleEnvCfg
from isaaclab_trainer.train import runs
from isaaclab_trainer.train.checks import max_num_envs
from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
from isaaclab_trainer.utils import ConfigError


def test_task_yaml_files_hold_isaac_lab_numbers():
    cfg = load_env_cfg("Isaac-Cartpole-v0")
    assert isinstance(cfg, CartpoleEnvCfg)
    assert (cfg.sim_dt, cfg.decimation, cfg.episode_length_s, cfg.action_scale) == (1 / 120, 2, 5.0, 100.0)
    assert cfg.max_pole_angle is None and cfg.cart_bounds == 3.0
    direct = load_env_cfg("Isaac-Cartpole-Direct-v0")
    assert direct.max_pole_angle == pytest.approx(1.5707963)
    assert direct.reset_cart_pos == (0.0, 0.0)
    assert set(registered_tasks()) >= {"Isaac-Cartpole-v0", "Isaac-Cartpole-Direct-v0"}


def test_task_yaml_is_the_only_source_of_env_values(tmp_path):
    """CartpoleEnvCfg has no defaults: a task YAML without a key is refused, naming it."""
    from isaaclab_trainer.utils import ConfigError

    source = tmp_path / "no_seed.yaml"
    text = (Path(__file__).resolve().parents[1] / "config" / "tasks" / "Isaac-Cartpole-v0.yaml").read_text()
    source.write_text("\n".join(line for line in text.splitlines() if not line.startswith("seed:")))
    with pytest.raises(ConfigError, match=f"{source}: missing key 'seed'"):
        load_env_cfg("Isaac-Cartpole-v0", path=source)


def test_sb3_config_converts_modules_and_schedules():
    raw = load_agent_cfg("Isaac-Cartpole-v0")
    s = process_sb3_cfg(raw, num_envs=64)
    assert s.policy == "MlpPolicy" and s.n_timesteps == int(raw["n_timesteps"])
    assert s.ppo_kwargs["policy_kwargs"]["activation_fn"] is nn.ELU
    # the cartpole config's lin_3e-4: linear from 3e-4 to 0 over the run (progress_remaining 1 -> 0)
    assert [s.ppo_kwargs["learning_rate"](p) for p in (1.0, 0.5, 0.0)] == pytest.approx([3e-4, 1.5e-4, 0.0])
    assert s.eval_interval == 64_000 and s.eval_episodes == 64 and s.stop_at_eval_return == 4.9
    assert process_sb3_cfg({**raw, "stop_at_eval_return": None}, 64).stop_at_eval_return is None
    assert process_sb3_cfg({**raw, "stop_at_eval_return": -2}, 64).stop_at_eval_return == -2.0  # returns can be < 0
    const = process_sb3_cfg({**raw, "learning_rate": 3e-4}, 64)
    assert const.ppo_kwargs["learning_rate"](0.3) == pytest.approx(3e-4)
    lin = process_sb3_cfg({**raw, "learning_rate": "lin_1e-3", "clip_range": "lin_0.2"}, 64)
    assert lin.ppo_kwargs["learning_rate"](1.0) == pytest.approx(1e-3)
    assert lin.ppo_kwargs["learning_rate"](0.25) == pytest.approx(2.5e-4)
    assert lin.ppo_kwargs["clip_range"](0.5) == pytest.approx(0.1)
    assert process_sb3_cfg({**raw, "n_minibatches": 4}, 64).ppo_kwargs["batch_size"] == 16 * 64 // 4
    assert s.rollout_size(64) == 1024


@pytest.mark.parametrize(
    "change,match",
    [
        ({"n_step": 16}, "unknown key 'n_step'; did you mean 'n_steps'"),
        ({"policy_kwargs": {"activation_fn": "nn.NotAModule"}}, "not a torch.nn module"),
        ({"learning_rate": "lin_fast"}, "lin_<number>"),
        ({"learning_rate": "lin_-3e-4"}, "'lin_-3e-4' is not of the form lin_<number>, a number >= 0"),
        ({"learning_rate": "lin_inf"}, "'lin_inf' is not of the form lin_<number>"),
        ({"eval_interval": -1}, "'eval_interval' must be an integer >= 0 \\(0: keep no best model\\), got -1"),
        ({"eval_interval": 6.4e4}, "'eval_interval' must be an integer, got 64000.0"),
        ({"eval_episodes": 0}, "'eval_episodes' must be an integer >= 1, got 0"),
        ({"stop_at_eval_return": "4.9"}, "'stop_at_eval_return' must be a number or null, got '4.9'"),
        ({"stop_at_eval_return": True}, "'stop_at_eval_return' must be a number or null, got True"),
        ({"stop_at_eval_return": float("nan")}, r"'stop_at_eval_return' must be a finite number \(null or absent"),
        ({"stop_at_eval_return": -float("inf")}, "'stop_at_eval_return' must be a finite number"),
        (
            {"stop_at_eval_return": 4.9, "eval_interval": 0},
            "'stop_at_eval_return' 4.9 needs evaluations, but 'eval_interval' is 0",
        ),
        ({"eval_episodes": 10**12}, r"'eval_episodes' 1000000000000 \(one env each\) does not fit in memory"),
        ({"learning_rate": "3e-4x"}, "must be a number or 'lin_<number>'"),
        ({"n_steps": 0}, "'n_steps' must be an integer >= 1"),
    ],
)
def test_sb3_config_rejects_bad_values(change, match):
    with pytest.raises(ConfigError, match=match):
        process_sb3_cfg({**load_agent_cfg("Isaac-Cartpole-v0"), **change}, 64)


def test_eval_episodes_are_bounded_by_the_tasks_memory_per_env():
    """One evaluation env per episode at the task's own size: twice as many Humanoid envs as fit are refused,
    though as many cartpole-sized envs (12x smaller) would fit."""
    humanoid = bytes_per_env("Isaac-Humanoid-v0")
    too_many = 2 * max_num_envs(bytes_per_env=humanoid)
    cfg = {**load_agent_cfg("Isaac-Humanoid-v0"), "eval_episodes": too_many}
    assert process_sb3_cfg(cfg, 64).eval_episodes == too_many
    with pytest.raises(ConfigError, match=f"'eval_episodes' {too_many} \\(one env each\\) does not fit in memory"):
        process_sb3_cfg(cfg, 64, bytes_per_env=humanoid)


def test_env_yaml_is_strict(tmp_path):
    bad = tmp_path / "env.yaml"
    bad.write_text("num_env: 4\n")
    with pytest.raises(ConfigError, match="unknown key 'num_env'; did you mean 'num_envs'"):
        load_env_cfg("Isaac-Cartpole-v0", bad)
    bad.write_text("num_envs: four\n")
    with pytest.raises(ConfigError, match="'num_envs' must be int"):
        load_env_cfg("Isaac-Cartpole-v0", bad)
    bad.write_text("num_envs: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_env_cfg("Isaac-Cartpole-v0", bad)


def _touch(path: Path, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    if mtime is not None:
        os.utime(path.parent, (mtime, mtime))
    return path


def test_latest_checkpoint_numeric_order_and_newest_run(tmp_path):
    root = runs.task_log_root("Isaac-Cartpole-v0", tmp_path)
    old, new = root / "2026-01-01_00-00-00", root / "2026-01-02_00-00-00"
    for steps in (64000, 960000, 1024000):
        _touch(old / f"model_{steps}_steps.zip")
    _touch(old / "model.zip")
    for steps in (64000, 960000, 1024000):
        _touch(new / f"model_{steps}_steps.zip")
    _touch(new / "model.zip")
    now = time.time()
    os.utime(old, (now - 100, now - 100))
    os.utime(new, (now, now))
    found = runs.latest_checkpoint("Isaac-Cartpole-v0", tmp_path, use_last_checkpoint=True)
    assert found == new / "model_1024000_steps.zip"  # alphabetical order would pick 960000
    assert runs.select_checkpoint("Isaac-Cartpole-v0", "latest", tmp_path) == found
    assert runs.best_checkpoint("Isaac-Cartpole-v0", tmp_path) is None
    _touch(old / "model_best.zip", now - 100)  # the newest run without a best model is skipped
    assert runs.select_checkpoint("Isaac-Cartpole-v0", "best", tmp_path) == old / "model_best.zip"
    _touch(new / "model_best.zip", now)
    assert runs.best_checkpoint("Isaac-Cartpole-v0", tmp_path) == new / "model_best.zip"
    assert runs.latest_checkpoint("Isaac-Cartpole-v0", tmp_path, use_last_checkpoint=False) == new / "model.zip"
    assert runs.task_log_root("Isaac-Cartpole-Play-v0", tmp_path) == root  # play tasks share the train logs
    assert runs.latest_checkpoint("Isaac-Cartpole-Direct-v0", tmp_path) is None


def test_run_dir_layout_names(tmp_path):
    run = runs.new_run_dir("Isaac-Cartpole-v0", tmp_path)
    assert run.parent == tmp_path.resolve() / "sb3" / "Isaac-Cartpole-v0"
    assert len(run.name) == len("2026-11-23_10-00-00") and run.is_dir() and not any(run.iterdir())
    assert runs.vecnormalize_path(run / "model_64000_steps.zip").name == "model_vecnormalize_64000_steps.pkl"
    assert runs.vecnormalize_path(run / "model.zip").name == "model_vecnormalize.pkl"
    assert runs.vecnormalize_path(run / "model_best.zip").name == "model_vecnormalize_best.pkl"  # as Isaac Lab's play
