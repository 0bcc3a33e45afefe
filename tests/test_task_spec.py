"""The task specs: every task's files exist and load, overrides are checked once, and moving the cartpole onto
the spec changed none of its numbers (weights of a fixed-seed train.py run, hashed before the move)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

from conftest import TRAIN, run_script
from isaaclab_trainer.tasks import (
    TASKS,
    agent_cfg_path,
    env_cfg_path,
    env_class,
    load_agent_cfg,
    load_env_cfg,
    override_env_cfg,
    sweep_cfg_path,
)
from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
from isaaclab_trainer.train.sweep import load_sweep
from isaaclab_trainer.utils import ConfigError

#: sha256 of the policy weights ``train.py --num_envs 16 --seed 7 --max_iterations 3`` wrote with the code
#: before the task specs (commit 771a470), on CPU with torch 2.13 (the 3.11 and the 3.12 venv agree)
WEIGHTS_BEFORE_SPECS = {
    "Isaac-Cartpole-v0": "769405d37c196c0cc87df0618f04fd3394e123aa065be4392059d60d87e9a3f8",
    "Isaac-Cartpole-Direct-v0": "690d02bff05724564181a40d3cc6a1f9f5711210c7e667cfd30fd880c3ca8362",
}


def weights_hash(model_zip: Path) -> str:
    with zipfile.ZipFile(model_zip) as z, z.open("policy.pth") as f:
        weights = torch.load(f, weights_only=True)
    h = hashlib.sha256()
    for key in sorted(weights):
        h.update(key.encode())
        h.update(weights[key].detach().contiguous().numpy().tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("task", TASKS)
def test_every_task_has_its_files_and_classes(task):
    for path in (env_cfg_path(task), agent_cfg_path(task), sweep_cfg_path(task)):
        assert path.is_file(), path
    cfg = load_env_cfg(task)
    cls = env_class(task)
    obs, act = cls.policy_spaces()
    assert obs.shape == (cls.observation_dim,) == (len(cls.observation_names),)
    assert act.shape == (cls.action_dim,) == (len(cls.action_names),)
    assert act.is_bounded("both")  # SB3 clips to these bounds
    assert cls.action_metadata(cfg)["formula"]
    assert TASKS[task].bytes_per_env > 0
    settings = process_sb3_cfg(load_agent_cfg(task), cfg.num_envs, source=task)  # the agent config is usable
    assert settings.n_timesteps > 0
    sweep = load_sweep(sweep_cfg_path(task), task, load_agent_cfg(task), cfg.num_envs)  # and its sweep file
    assert sweep.space and sweep.metric == "rollout/ep_rew_mean"


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("newton_solver", "physx", "'newton_solver' must be one of mujoco, xpbd, featherstone"),
        ("upright_threshold", 1.0, "'upright_threshold' must be a number between 0 and 1"),
        ("effort_clip", 0.0, "'effort_clip' must be a number > 0"),
        ("reset_joint_pos", (0.2, -0.2), "'reset_joint_pos' must be \\[low, high\\]"),
        ("target", (1.0, 2.0), "'target' must be"),
    ],
)
def test_ant_config_rejects_values_no_run_can_use(key, value, match):
    with pytest.raises(ConfigError, match=match):
        override_env_cfg(load_env_cfg("Isaac-Ant-v0"), **{key: value})


def test_overrides_are_checked_like_the_yaml():
    cfg = load_env_cfg("Isaac-Cartpole-v0")
    same = override_env_cfg(cfg, num_envs=None, seed=None)
    assert same is cfg
    changed = override_env_cfg(cfg, num_envs=8, seed=3, device="cpu")
    assert (changed.num_envs, changed.seed, cfg.num_envs) == (8, 3, load_env_cfg("Isaac-Cartpole-v0").num_envs)
    with pytest.raises(ConfigError, match="'decimation'"):
        override_env_cfg(cfg, "--flag", decimation=0)
    with pytest.raises(ConfigError, match="'num_envs' must be int"):
        override_env_cfg(cfg, num_envs="many")


@pytest.mark.parametrize("task", sorted(WEIGHTS_BEFORE_SPECS))
def test_cartpole_weights_unchanged_by_the_task_specs(task, tmp_path):
    # the agent config as it was at that commit: the constant learning rate (the schedule came later, issue 19)
    agent = tmp_path / "agent.yaml"
    agent.write_text(yaml.safe_dump({**load_agent_cfg(task), "learning_rate": 3e-4}))
    res = run_script(
        TRAIN,
        *("--task", task, "--num_envs", "16", "--seed", "7", "--max_iterations", "3", "--headless"),
        *("--agent", str(agent)),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path / "logs" / "sb3" / task).iterdir()
    assert weights_hash(run / "model.zip") == WEIGHTS_BEFORE_SPECS[task]
