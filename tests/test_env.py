"""The cartpole tasks against Isaac Lab's semantics (facts file §1), on the real Newton engine."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest
import torch

import isaaclab_trainer  # noqa: F401 - registers the tasks
from isaaclab_trainer.tasks import load_env_cfg
from isaaclab_trainer.tasks.cartpole.env import CartpoleDirectEnv, CartpoleEnv

N = 8


@pytest.fixture(scope="module")
def env() -> CartpoleEnv:
    e = gym.make("Isaac-Cartpole-v0", num_envs=N, device="cpu")
    yield e.unwrapped
    e.close()


@pytest.fixture(scope="module")
def direct_env() -> CartpoleDirectEnv:
    e = gym.make("Isaac-Cartpole-Direct-v0", num_envs=N, device="cpu")
    yield e.unwrapped
    e.close()


def hold(env, pos, vel=(0.0, 0.0)) -> None:
    """Teleport every env to the given joint state."""
    ids = torch.arange(env.num_envs)
    env.backend.write_joint_state(ids, torch.tensor([pos] * env.num_envs), torch.tensor([vel] * env.num_envs))


def test_make_with_keyword_overrides_and_cfg_object():
    e = gym.make("Isaac-Cartpole-v0", num_envs=3, device="cpu")
    assert isinstance(e.unwrapped, CartpoleEnv) and e.unwrapped.num_envs == 3
    obs, _ = e.reset()
    assert obs["policy"].shape == (3, 4) and obs["policy"].dtype == torch.float32
    assert e.unwrapped.single_observation_space["policy"].shape == (4,)
    assert e.unwrapped.single_action_space.shape == (1,)
    e.close()
    cfg = load_env_cfg("Isaac-Cartpole-v0")
    cfg.num_envs = 2
    e = gym.make("Isaac-Cartpole-v0", cfg=cfg)
    assert e.unwrapped.num_envs == 2 and e.unwrapped.cfg is cfg
    e.close()


def test_step_timing_constants(env):
    assert env.step_dt == pytest.approx(1 / 60)
    assert env.max_episode_length == 300


def test_observation_order_manager_based(env):
    env.reset()
    hold(env, (0.5, 0.2), (0.3, -0.4))
    obs, *_ = env.step(torch.zeros(N, 1))
    q, qd = env.backend.joint_pos(), env.backend.joint_vel()
    torch.testing.assert_close(obs["policy"], torch.cat((q, qd), dim=-1))
    assert obs["policy"][0, 0] > 0.4  # cart position first


def test_observation_order_direct(direct_env):
    direct_env.reset()
    hold(direct_env, (0.5, 0.2), (0.3, -0.4))
    obs, *_ = direct_env.step(torch.zeros(N, 1))
    q, qd = direct_env.backend.joint_pos(), direct_env.backend.joint_vel()
    torch.testing.assert_close(obs["policy"], torch.stack((q[:, 1], qd[:, 1], q[:, 0], qd[:, 0]), dim=-1))


def test_upright_rewards_scaled_by_dt_only_in_manager_task(env, direct_env):
    for e in (env, direct_env):
        e.reset()
        hold(e, (0.0, 0.0))
        _, reward, terminated, _, _ = e.step(torch.zeros(N, 1))
        assert not terminated.any()
    # an upright pole at rest earns "alive" (+1) minus tiny velocity/angle penalties
    hold(env, (0.0, 0.0))
    _, r_v0, *_ = env.step(torch.zeros(N, 1))
    hold(direct_env, (0.0, 0.0))
    _, r_direct, *_ = direct_env.step(torch.zeros(N, 1))
    assert r_v0 == pytest.approx(torch.full((N,), 1 / 60), abs=1e-4)  # 300 steps -> ~5 per episode
    assert r_direct == pytest.approx(torch.ones(N), abs=1e-2)  # 299 steps -> ~299 per episode


def test_pole_angle_penalty_wrapped_only_in_manager_task(env, direct_env):
    turns = 2 * math.pi + 0.3
    for e in (env, direct_env):
        e.reset()
    hold(env, (0.0, turns))
    _, r_v0, *_ = env.step(torch.zeros(N, 1))
    # manager-based: wrap_to_pi(2pi + 0.3) = 0.3 -> penalty ~0.09 * dt
    assert r_v0.mean() == pytest.approx((1 - 0.3**2) / 60, abs=2e-3)


def test_cart_out_of_bounds_terminates_and_final_obs_is_pre_reset(env):
    env.reset()
    hold(env, (3.2, 0.0))
    obs, reward, terminated, truncated, extras = env.step(torch.zeros(N, 1))
    assert terminated.all() and not truncated.any()
    final = extras["final_obs"]["policy"]
    assert (final[:, 0] > 3.0).all(), "final_obs must be the observation before the reset"
    assert (obs["policy"][:, 0].abs() <= 1.0 + 1e-5).all(), "returned obs must be the post-reset one"
    assert reward == pytest.approx(torch.full((N,), (-2.0) / 60), abs=1e-3)  # terminating, not alive
    assert (env.episode_length_buf == 0).all()


def test_pole_angle_terminates_only_direct(env, direct_env):
    for e in (env, direct_env):
        e.reset()
        hold(e, (0.0, 1.7))
    _, _, term_v0, _, _ = env.step(torch.zeros(N, 1))
    _, _, term_direct, _, _ = direct_env.step(torch.zeros(N, 1))
    assert not term_v0.any()
    assert term_direct.all()


@pytest.mark.parametrize("fixture,limit", [("env", 300), ("direct_env", 299)])
def test_time_out_truncates_at_episode_length(request, fixture, limit):
    e = request.getfixturevalue(fixture)
    e.reset()
    e.episode_length_buf[:] = limit - 2
    hold(e, (0.0, 0.0))
    _, _, terminated, truncated, extras = e.step(torch.zeros(N, 1))
    assert not truncated.any()
    hold(e, (0.0, 0.0))
    _, _, terminated, truncated, extras = e.step(torch.zeros(N, 1))
    assert truncated.all() and not terminated.any()
    assert torch.equal(extras["time_outs"], truncated)


def test_reset_ranges(env, direct_env):
    env.reset()
    q, qd = env.backend.joint_pos(), env.backend.joint_vel()
    assert (q[:, 0].abs() <= 1.0).all() and (q[:, 1].abs() <= math.pi / 4 + 1e-6).all()
    assert (qd[:, 0].abs() <= 0.5).all() and (qd[:, 1].abs() <= math.pi / 4 + 1e-6).all()
    assert q[:, 0].std() > 0, "cart positions are randomized"
    direct_env.reset()
    q, qd = direct_env.backend.joint_pos(), direct_env.backend.joint_vel()
    assert (q[:, 0] == 0).all() and (qd == 0).all() and q[:, 1].std() > 0


def test_seed_makes_resets_repeatable(env):
    env.reset(seed=7)
    first = env.backend.joint_pos().clone()
    env.reset(seed=7)
    torch.testing.assert_close(env.backend.joint_pos(), first)
    env.reset(seed=8)
    assert not torch.equal(env.backend.joint_pos(), first)


def test_action_is_scaled_effort_on_the_cart(env):
    """+1 action = 100 N on the cart: from rest it accelerates towards +x, the pole tilts back."""
    env.reset()
    hold(env, (0.0, 0.0))
    env.step(torch.ones(N, 1))
    qd = env.backend.joint_vel()
    assert (qd[:, 0] > 0).all() and (qd[:, 1] < 0).all()


def test_render_rgb_array():
    e = gym.make("Isaac-Cartpole-v0", num_envs=2, device="cpu", render_mode="rgb_array")
    e.reset()
    frame = e.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype.name == "uint8"
    assert (frame != frame[0, 0]).any(), "the frame shows something"
    e.close()
