"""NaN/inf in observations, rewards or actions: detected per env, reported with the env index, those
envs reset, the rest of the batch untouched; the session reports it in its status."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch

from isaaclab_trainer.session import RenderMode, SessionState, TrainingSession
from isaaclab_trainer.tasks import load_env_cfg
from isaaclab_trainer.train.trainer import make_env
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

N = 8


@pytest.fixture
def env():
    cfg = load_env_cfg("Isaac-Cartpole-v0")
    cfg.num_envs = N
    env = make_env("Isaac-Cartpole-v0", cfg)
    env.reset()
    yield env
    env.close()


def make_env_like(env):
    """A second env in the same state as ``env`` (same config and seed, reset the same way)."""
    twin = make_env("Isaac-Cartpole-v0", env.unwrapped.cfg)
    twin.reset()
    return twin


def all_finite(*tensors) -> bool:
    return all(bool(torch.isfinite(torch.as_tensor(t)).all()) for t in tensors)


def test_healthy_step_reports_no_fault(env):
    obs, reward, terminated, truncated, extras = env.step(torch.zeros(N, 1))
    assert extras["faults"] == 0 and extras["fault_env_ids"].numel() == 0
    assert env.fault_count == 0


def test_exploding_physics_resets_only_that_env(env, caplog):
    env.backend.joint_vel()[3] = math.nan  # env 3's state explodes
    before = env.backend.joint_pos().clone()
    with caplog.at_level(logging.WARNING):
        obs, reward, terminated, truncated, extras = env.step(torch.zeros(N, 1))
    assert extras["faults"] == 1 and extras["fault_env_ids"].tolist() == [3]
    assert all_finite(obs["policy"], reward, extras["final_obs"]["policy"])
    assert terminated[3] and not truncated[3] and reward[3] == 0.0
    assert env.episode_length_buf[3] == 0  # reset
    assert "env 3" in caplog.text and "non-finite observation" in caplog.text
    others = [i for i in range(N) if i != 3]
    assert not terminated[others].any()  # the others keep going ...
    assert torch.allclose(env.backend.joint_pos()[others], before[others], atol=0.5)  # ... from where they were
    for _ in range(20):  # and env 3 stays healthy after its reset
        obs, reward, *_, extras = env.step(torch.zeros(N, 1))
        assert extras["faults"] == 0 and all_finite(obs["policy"], reward)
    assert env.fault_count == 1 and "env 3" in env.last_fault


def test_non_finite_action_is_zeroed(env, caplog):
    action = torch.zeros(N, 1)
    action[5] = math.inf
    action[6] = math.nan
    zero_action = make_env_like(env)
    with caplog.at_level(logging.WARNING):
        obs, reward, terminated, _, extras = env.step(action)
    assert extras["fault_env_ids"].tolist() == [5, 6]
    assert extras["fault_reports"] == [([5, 6], "non-finite action from the policy in env 5, 6; zeroed")]
    assert "non-finite action from the policy in env 5, 6; zeroed" in caplog.text
    assert all_finite(obs["policy"], reward, env.backend.joint_pos(), env.backend.joint_vel())
    # the physics ran those envs with zero effort, exactly as a twin env given zeros
    twin_obs, *_ = zero_action.step(torch.zeros(N, 1))
    assert torch.equal(obs["policy"][5:7], twin_obs["policy"][5:7])
    zero_action.close()


def test_non_finite_reward_is_caught(env, monkeypatch):
    real = env._get_rewards

    def rewards(terminated):
        r = real(terminated).clone()
        r[1] = math.inf
        return r

    monkeypatch.setattr(env, "_get_rewards", rewards)
    _, reward, terminated, _, extras = env.step(torch.zeros(N, 1))
    assert extras["fault_env_ids"].tolist() == [1] and reward[1] == 0.0 and terminated[1]
    assert "non-finite reward in env 1" in env.last_fault


def test_wrapper_never_hands_nan_to_sb3(env):
    venv = Sb3VecEnvWrapper(env)
    venv.reset()
    actions = np.zeros((N, 1), dtype=np.float32)
    actions[2] = np.nan
    obs, rewards, dones, infos = venv.step(actions)
    assert np.isfinite(obs).all() and np.isfinite(rewards).all()
    assert infos[2]["fault"] == "non-finite action from the policy in env 2; zeroed"
    assert not dones[2]  # zeroed, not reset
    env.backend.joint_vel()[4] = math.inf
    obs, rewards, dones, infos = venv.step(np.zeros((N, 1), dtype=np.float32))
    assert np.isfinite(obs).all() and np.isfinite(rewards).all() and dones[4]
    assert "env 4" in infos[4]["fault"] and np.isfinite(infos[4]["terminal_observation"]).all()
    assert venv.fault_count == 2 and "env 4" in venv.last_fault


def test_session_reports_faults_and_keeps_training(tmp_path):
    session = TrainingSession(num_envs=8, log_root=tmp_path)
    session.build()
    backend = session.env.unwrapped.backend
    real_step, calls = backend.step, {"n": 0}

    def exploding_step():
        real_step()
        calls["n"] += 1
        if calls["n"] in (30, 31, 90):  # physics steps; 2 per env step
            backend.joint_vel()[6] = math.nan

    backend.step = exploding_step
    session.start_training(total_timesteps=8 * 16 * 6)
    session.set_render_mode(RenderMode.NO_RENDERING)
    for _ in range(10_000):
        if session.status.state != SessionState.TRAINING:
            break
        session.update()
    status = session.status
    session.close()
    assert status.state == SessionState.DONE, status.error
    assert status.faults == 3 and "env 6" in status.last_fault  # env steps 15, 16 and 45
    assert status.timesteps >= 8 * 16 * 6
