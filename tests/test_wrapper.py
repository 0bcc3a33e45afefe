"""Sb3VecEnvWrapper against SB3's VecEnv contract, composed with SB3's own wrappers and helpers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

import isaaclab_trainer  # noqa: F401
from isaaclab_trainer.wrappers.sb3 import Sb3VecEnvWrapper

N = 8


@pytest.fixture(scope="module")
def venv() -> Sb3VecEnvWrapper:
    v = Sb3VecEnvWrapper(gym.make("Isaac-Cartpole-v0", num_envs=N, device="cpu"))
    yield v
    v.close()


def test_spaces_and_numpy_io(venv):
    assert isinstance(venv, VecEnv) and venv.num_envs == N
    assert venv.observation_space.shape == (4,)
    # the unbounded effort action is exposed as +-100 so SB3 clips it
    assert np.all(venv.action_space.low == -100) and np.all(venv.action_space.high == 100)
    obs = venv.reset()
    assert isinstance(obs, np.ndarray) and obs.shape == (N, 4) and obs.dtype == np.float32
    obs, rew, dones, infos = venv.step(np.zeros((N, 1), dtype=np.float32))
    assert obs.shape == (N, 4) and rew.shape == (N,) and dones.dtype == bool and len(infos) == N


def test_episode_info_and_true_terminal_observation(venv):
    venv.reset()
    env = venv.unwrapped_env
    ids = torch.arange(N)
    pos = torch.zeros(N, 2)
    pos[:4, 0] = 3.5  # first half beyond the 3 m bound
    env.backend.write_joint_state(ids, pos, torch.zeros(N, 2))
    obs, rew, dones, infos = venv.step(np.zeros((N, 1), dtype=np.float32))
    assert dones[:4].all() and not dones[4:].any()
    for i in range(4):
        info = infos[i]
        assert info["episode"]["l"] == 1 and info["episode"]["r"] == pytest.approx(float(rew[i]))
        assert info["TimeLimit.truncated"] is False
        assert info["terminal_observation"][0] > 3.0, "terminal obs is the pre-reset observation"
        assert abs(obs[i, 0]) <= 1.0, "returned obs is already reset"
    assert all("episode" not in infos[i] for i in range(4, N))


def test_time_limit_truncated_flag(venv):
    venv.reset()
    env = venv.unwrapped_env
    env.episode_length_buf[:] = env.max_episode_length - 1
    env.backend.write_joint_state(torch.arange(N), torch.zeros(N, 2), torch.zeros(N, 2))
    _, _, dones, infos = venv.step(np.zeros((N, 1), dtype=np.float32))
    assert dones.all() and all(info["TimeLimit.truncated"] for info in infos)


def test_attr_and_method_access(venv):
    assert venv.get_attr("num_envs") == [N] * N
    assert venv.get_attr("step_dt", indices=[0, 1]) == [pytest.approx(1 / 60)] * 2
    venv.set_attr("some_flag", 3)
    assert venv.get_attr("some_flag", indices=0) == [3]
    assert venv.env_method("seed", 5) == [5] * N
    assert venv.seed(11) == [11] * N
    assert venv.env_is_wrapped(Monitor) == [False] * N


def test_seed_reproduces_resets(venv):
    venv.seed(3)
    a = venv.reset()
    venv.seed(3)
    b = venv.reset()
    np.testing.assert_array_equal(a, b)


def test_composes_with_vec_normalize_monitor_and_evaluate_policy():
    venv = VecMonitor(Sb3VecEnvWrapper(gym.make("Isaac-Cartpole-v0", num_envs=N, device="cpu")))
    venv = VecNormalize(venv, norm_obs=True, norm_reward=False)
    model = PPO("MlpPolicy", venv, n_steps=8, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=2 * 8 * N)
    assert venv.obs_rms.count > 1
    venv.training = False
    mean, std = evaluate_policy(model, venv, n_eval_episodes=N, deterministic=True)
    assert np.isfinite(mean) and mean < 6.0  # returns are dt-scaled: at most ~5 per episode
    venv.close()
