"""Isaac-Ant-v0: the physics of Newton's ant (MuJoCo Warp), Isaac Lab's terms on fixed states, and a short
training run through train.py and play.py."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch

from conftest import PLAY, TRAIN, run_script
from isaaclab_trainer.sim.ant import DEFAULT_JOINT_POS, ROOT_HEIGHT
from isaaclab_trainer.tasks import make_task_env
from isaaclab_trainer.tasks.locomotion import mdp
from locomotion_states import set_state, yaw_quat

TASK = "Isaac-Ant-v0"
EXPORT = TRAIN.parent / "export.py"
#: the foot capsule of ant.usda / nv_ant.xml: it starts at the ankle and is 0.566 m long, radius 0.08 m
FOOT_LENGTH, FOOT_RADIUS = 0.5657, 0.08
DT = 1.0 / 60.0
#: how far past a limit a joint may go under full effort (MuJoCo's soft limits): while swinging into it, and held
IMPACT_SLACK, HOLD_SLACK = 0.2, 0.03


@pytest.fixture(scope="module")
def env():
    env = make_task_env(TASK, num_envs=4)
    env.reset(seed=0)
    yield env
    env.close()


# -- physics ---------------------------------------------------------------------------------------


def test_dropped_ant_comes_to_rest_standing_on_its_feet(env):
    """Zero effort, dropped from Isaac Lab's default pose (0.5 m): after 4 s it stands still, upright, held
    by its four feet at the height their capsules reach (ankle at torso height, feet tilted down by their
    joint angle)."""
    set_state(env)
    zero = torch.zeros(env.num_envs, env.backend.num_dofs)
    for _ in range(480):
        env.backend.set_joint_efforts(zero)
        env.backend.step()
    root = env.backend.root_pose()
    assert env.backend.root_velocity().abs().max() < 0.05  # at rest
    assert (mdp.up_proj(root[:, 3:]) > 0.99).all()  # upright
    q = env.backend.joint_pos()[:, env._dofs]
    feet_angle = q[:, 4:].abs()  # the four foot joints, tilted down by |q| (sign per side)
    expected = FOOT_LENGTH * torch.sin(feet_angle) + FOOT_RADIUS  # each foot's tip on the ground
    assert torch.allclose(root[:, 2:3].expand(-1, 4), expected, atol=0.015), (root[:, 2], expected)
    assert (root[:, 2] > env.cfg.termination_height).all()


def test_joint_limits_hold_against_full_effort(env):
    """Full effort into each limit for 2 s: every joint stops at its limit and holds there. MuJoCo's limits
    are soft constraints (default solref): a joint swinging into one passes it for a moment (measured: up to
    0.16 rad at 7.5 N m, IMPACT_SLACK bounds it), then settles on it (measured: within 0.022 rad after 1.5 s)."""
    limits = env._limits
    for sign in (1.0, -1.0):
        set_state(env)
        efforts = torch.zeros(env.num_envs, env.backend.num_dofs)
        efforts[:, env._dofs] = sign * env.cfg.effort_clip
        for step in range(240):
            env.backend.set_joint_efforts(efforts)
            env.backend.step()
            q = env.backend.joint_pos()[:, env._dofs]
            slack = IMPACT_SLACK if step < 180 else HOLD_SLACK
            assert (q >= limits[:, 0] - slack).all() and (q <= limits[:, 1] + slack).all(), (step, q)
        bound = limits[:, 1] if sign > 0 else limits[:, 0]
        assert torch.allclose(q, bound.expand_as(q), atol=HOLD_SLACK)  # pushed all the way to it


# -- terms on fixed states ---------------------------------------------------------------------------


def test_observation_terms_on_a_fixed_state(env):
    """Yawed 90 deg, moving +1 m/s along world x, spinning 2 rad/s about world z, at the default joints."""
    set_state(env, pos=(1.0, 2.0, 0.45), quat=yaw_quat(math.pi / 2), vel=(1.0, 0.0, 0.0, 0.0, 0.0, 2.0), qd=0.5)
    env._actions[:] = 0.25
    obs = env._get_observations()[0]
    names = list(env.observation_names)

    def at(name: str) -> float:
        return float(obs[names.index(name)])

    assert at("base_height") == pytest.approx(0.45, abs=1e-6)
    # world +x seen from a body yawed +90 deg is body -y
    assert (at("base_lin_vel_x"), at("base_lin_vel_y")) == (pytest.approx(0.0, abs=1e-5), pytest.approx(-1.0))
    assert at("base_ang_vel_z") == pytest.approx(2.0)
    assert at("base_yaw") == pytest.approx(math.pi / 2) and at("base_roll") == pytest.approx(0.0, abs=1e-6)
    # the target (1000, 0) is at atan2(-2, 999) from (1, 2); minus the yaw
    assert at("base_angle_to_target") == pytest.approx(math.atan2(-2.0, 999.0) - math.pi / 2, abs=1e-5)
    assert at("base_up_proj") == pytest.approx(1.0)
    # forward axis (0, 1, 0) on the direction (999, -2)/|.|
    assert at("base_heading_proj") == pytest.approx(-2.0 / math.hypot(999.0, 2.0), abs=1e-5)
    # front_left_foot at 45 deg in [30, 100] deg -> 2 (45 - 65) / 70
    assert at("joint_pos_norm_front_left_foot") == pytest.approx(2 * (45 - 65) / 70, abs=1e-4)
    assert at("joint_pos_norm_front_left_leg") == pytest.approx(0.0, abs=1e-5)
    assert at("joint_vel_front_left_leg") == pytest.approx(0.5 * 0.2)
    assert at("action_right_back_foot") == 0.25
    assert len(names) == obs.numel() == 60


def test_reward_terms_on_a_fixed_state(env):
    """From (0, 0) to (0.1, 0) along the target direction in one step, upright, heading at the target,
    actions 0.5, joint velocities 1 rad/s, one joint 0.5 % of its range beyond the 0.99 threshold."""
    set_state(env, pos=(0.0, 0.0, ROOT_HEIGHT))
    env._potentials[:] = mdp.potential(torch.zeros(env.num_envs, 3), env._target.expand(env.num_envs, 3), DT)
    lo, hi = env._limits[0]  # front_left_leg, [-40, 40] deg
    q = env._default_q.clone()
    q[0] = hi - 0.005 * (hi - lo) / 2  # normalized 0.995
    set_state(env, pos=(0.1, 0.0, ROOT_HEIGHT), q=q, qd=1.0)
    env._actions[:] = 0.5
    terminated = torch.tensor([False, True, False, False])
    reward = env._get_rewards(terminated)
    # progress_reward is the potential's change, 0.1 m / step dt; x step dt like every term: 0.1 m
    progress, upright, move, action_l2 = 0.1 / DT, 0.1, 0.5, -0.005 * 8 * 0.25
    energy = -0.05 * 8 * 0.5 * 1.0
    limits = -0.1 * (0.995 - 0.99) / 0.01
    alive_sum = progress + 0.5 + upright + move + action_l2 + energy + limits
    # float32 potentials near -1000 m / DT = -6e4 (as Isaac Lab's) resolve progress to ~4e-3 / s: 1e-4 per step
    assert float(reward[0]) == pytest.approx(alive_sum * DT, abs=1e-4)
    assert float(reward[1]) == pytest.approx((alive_sum - 0.5) * DT - 2.0, abs=1e-4)  # not alive, penalty once


def test_terms_against_hand_values():
    quat = torch.tensor([yaw_quat(math.pi / 2), (math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4))])
    roll, pitch, yaw = mdp.euler_xyz(quat)
    assert yaw.tolist() == pytest.approx([math.pi / 2, 0.0], abs=1e-6)
    assert roll.tolist() == pytest.approx([0.0, math.pi / 2], abs=1e-6)
    assert mdp.up_proj(quat).tolist() == pytest.approx([1.0, 0.0], abs=1e-6)  # rolled 90 deg: up is sideways
    heading = torch.tensor([0.9, 0.4, -1.0])
    assert mdp.move_to_target_bonus(heading, 0.8).tolist() == pytest.approx([1.0, 0.5, -1.25])
    limits = torch.tensor([[-1.0, 1.0], [0.0, 2.0]])
    q = torch.tensor([[0.995, 1.0], [0.5, 1.999]])
    gear = torch.ones(2)
    # [0.995 -> 0.5 violation, 1.0 -> normalized 0 -> none], [0.5 -> none, 1.999 -> 0.999 -> 0.9]
    assert mdp.joint_pos_limits_penalty_ratio(q, limits, 0.99, gear).tolist() == pytest.approx([0.5, 0.9], abs=1e-4)
    action, vel = torch.tensor([[0.5, -1.0]]), torch.tensor([[2.0, 3.0]])
    assert mdp.power_consumption(action, vel, torch.tensor([1.0, 0.5])).tolist() == pytest.approx([2.5])


def test_terminates_below_the_torso_height(env):
    for z, expected in ((0.30, True), (0.32, False)):
        set_state(env, pos=(0.0, 0.0, z))
        terminated, truncated = env._get_dones()
        assert terminated.tolist() == [expected] * env.num_envs
    env.episode_length_buf[:] = env.max_episode_length
    assert env._get_dones()[1].all() and env.max_episode_length == 960


# -- front ends --------------------------------------------------------------------------------------


def test_short_training_run_writes_a_playable_model(tmp_path):
    res = run_script(
        TRAIN, "--task", "Isaac-Ant", "--num_envs", "4", "--max_iterations", "2", "--headless", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path / "logs" / "sb3" / "Isaac-Ant").iterdir()
    assert (run / "model.zip").is_file() and (run / "params" / "env.yaml").is_file()
    res = run_script(
        PLAY, "--task", "Isaac-Ant", "--num_envs", "2", "--use_last_checkpoint", "--num_episodes", "2", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert re.search(r"mean return", res.stdout + res.stderr), res.stdout
    # export: ONNX and TorchScript, each checked against SB3 by the exporter before it is kept
    res = run_script(EXPORT, "--task", "Isaac-Ant", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    meta = json.loads((run / "exported" / "policy.json").read_text())
    assert meta["input"]["shape"] == ["batch", 60] and meta["output"]["shape"] == ["batch", 8]
    assert meta["action_scaling"]["unit"] == "N m" and len(meta["action_scaling"]["joint"]) == 8


def test_video_frames_show_the_robots_where_the_physics_has_them():
    """3-D frames (Newton's ViewerGL on Mesa) follow the simulated root: an ant lifted by 0.5 m is drawn elsewhere."""
    env = make_task_env(TASK, num_envs=1, render_mode="rgb_array")
    try:
        env.reset(seed=0)
        frames = []
        for z in (ROOT_HEIGHT, ROOT_HEIGHT + 0.5):
            set_state(env, pos=(0.0, 0.0, z))
            frames.append(env.render())
    finally:
        env.close()
    assert frames[0].shape == (540, 960, 3) and frames[0].dtype.name == "uint8"

    changed = (abs(frames[0].astype(int) - frames[1].astype(int)).sum(-1) > 60).mean()
    assert changed > 0.002  # the robot moved in the picture, not only noise
    rows = (abs(frames[0].astype(int) - frames[1].astype(int)).sum(-1) > 60).any(axis=1).nonzero()[0]
    assert rows.max() - rows.min() > 20  # over a span of rows: the body moved up, not a pixel flickered


def test_scene_is_usd_physics_every_engine_reads():
    """The ant scene as PhysX (Kit) would read it, clone by clone: each env's joints connect that env's own
    bodies, with Isaac Lab's drive settings, and every body has mass from density and collision shapes."""
    from pxr import Usd, UsdPhysics

    from isaaclab_trainer.sim.ant import DAMPING, DENSITY, EFFORT_LIMIT
    from isaaclab_trainer.sim.scene import build_ant_scene

    stage = Usd.Stage.CreateInMemory()
    envs = build_ant_scene(stage, 3)
    for env_path in envs:
        robot = stage.GetPrimAtPath(f"{env_path}/Robot")
        assert robot.HasAPI(UsdPhysics.ArticulationRootAPI)
        joints = [p for p in Usd.PrimRange(robot) if p.IsA(UsdPhysics.RevoluteJoint)]
        assert sorted(j.GetName() for j in joints) == sorted(DEFAULT_JOINT_POS)
        for prim in joints:
            joint = UsdPhysics.RevoluteJoint(prim)
            for rel in (joint.GetBody0Rel(), joint.GetBody1Rel()):
                (target,) = rel.GetTargets()
                assert str(target).startswith(f"{env_path}/Robot/"), target  # its own env's bodies
            drive = UsdPhysics.DriveAPI(prim, UsdPhysics.Tokens.angular)
            assert drive.GetStiffnessAttr().Get() == 0.0 and drive.GetMaxForceAttr().Get() == EFFORT_LIMIT
            assert drive.GetDampingAttr().Get() == pytest.approx(DAMPING * math.pi / 180)
        bodies = [p for p in Usd.PrimRange(robot) if p.HasAPI(UsdPhysics.RigidBodyAPI)]
        assert len(bodies) == 9
        assert all(UsdPhysics.MassAPI(b).GetDensityAttr().Get() == DENSITY for b in bodies)
        colliders = [p for p in Usd.PrimRange(robot) if p.HasAPI(UsdPhysics.CollisionAPI)]
        assert len(colliders) >= 9
