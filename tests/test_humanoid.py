"""Isaac-Humanoid-v0: Newton's humanoid with Isaac Lab's settings per dof (multi-axis joints as <joint>:<axis>),
its physics (MuJoCo Warp), Isaac Lab's terms on fixed states, and a short training run through train.py,
play.py and export.py."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch

from conftest import PLAY, TRAIN, run_script
from isaaclab_trainer.sim.humanoid import EFFORT_LIMIT, JOINTS, ROOT_HEIGHT
from isaaclab_trainer.tasks import make_task_env
from isaaclab_trainer.tasks.locomotion import mdp
from locomotion_states import set_state, yaw_quat

TASK = "Isaac-Humanoid-v0"
EXPORT = TRAIN.parent / "export.py"
DT = 1.0 / 60.0
#: the foot capsules' radius (nv_humanoid.xml): a foot resting on the ground has its origin this high
FOOT_RADIUS = 0.027
#: Isaac Lab's JOINT_GEARS resolved per dof by hand (humanoid_common.py)
GEARS = {
    "left_upper_arm:0": 67.5,
    "left_upper_arm:1": 67.5,
    "left_lower_arm": 45.0,
    "lower_waist:0": 67.5,
    "lower_waist:1": 67.5,
    "pelvis": 67.5,
    "left_thigh:0": 45.0,
    "left_thigh:1": 135.0,
    "left_thigh:2": 45.0,
    "left_shin": 90.0,
    "left_foot:0": 22.5,
    "left_foot:1": 22.5,
    "right_thigh:0": 45.0,
    "right_thigh:1": 135.0,
    "right_thigh:2": 45.0,
    "right_shin": 90.0,
    "right_foot:0": 22.5,
    "right_foot:1": 22.5,
    "right_upper_arm:0": 67.5,
    "right_upper_arm:1": 67.5,
    "right_lower_arm": 45.0,
}


@pytest.fixture(scope="module")
def env():
    env = make_task_env(TASK, num_envs=2)
    env.reset(seed=0)
    yield env
    env.close()


# -- the robot ---------------------------------------------------------------------------------------


def test_dofs_are_named_per_axis_and_take_isaac_lab_settings(env):
    """Newton reports the 21 dofs as Isaac Lab names them, and the actions scale and clip per dof by gear."""
    assert sorted(env.backend.joint_names) == sorted(JOINTS) == sorted(GEARS)
    gears = torch.tensor([GEARS[j] for j in env.joints])
    assert torch.equal(env._scale, gears) and torch.equal(env._clip, gears)
    assert torch.allclose(env._gear_scaled, gears / 135.0)
    # the engine got Isaac Lab's effort limit and each axis its own limits (degrees in the USD)
    assert torch.all(env.backend.effort_limit == EFFORT_LIMIT)
    lo, hi = env._limits[env.joints.index("left_thigh:1")]
    assert (math.degrees(lo), math.degrees(hi)) == (pytest.approx(-120, abs=1e-3), pytest.approx(45, abs=1e-3))
    env._pre_physics_step(torch.full((env.num_envs, env.action_dim), 2.0))  # beyond a unit action: clipped
    assert torch.equal(env._efforts[:, env._dofs], gears.expand(env.num_envs, -1))


def test_dropped_humanoid_lands_on_its_feet_and_unactuated_falls(env):
    """Zero effort from Isaac Lab's default pose (root 1.34 m): the feet reach the ground within 0.25 s and rest on
    it (origin at the capsule radius: the contacts hold, nothing sinks); the drives alone cannot balance it, so
    it topples and the torso passes the 0.8 m termination height within 2.5 s, not before the feet landed."""
    set_state(env, q=torch.zeros(env.action_dim))
    zero = torch.zeros(env.num_envs, env.backend.num_dofs)
    feet = [env.backend.body_names.index(f) for f in env.feet]
    fell_at = None
    for step in range(600):  # 2.5 s
        env.backend.set_joint_efforts(zero)
        env.backend.step()
        feet_z = env.backend.body_poses()[:, feet, 2]
        if step == 60:  # 0.25 s
            assert torch.allclose(feet_z, torch.full_like(feet_z, FOOT_RADIUS), atol=0.004), feet_z
            assert (env.backend.root_pose()[:, 2] > env.cfg.termination_height).all()
        assert (feet_z > FOOT_RADIUS - 0.01).all(), (step, feet_z)  # never through the ground
        if fell_at is None and (env.backend.root_pose()[:, 2] < env.cfg.termination_height).all():
            fell_at = step
    assert fell_at is not None and fell_at > 60


# -- terms on fixed states ---------------------------------------------------------------------------


def test_observation_terms_on_a_fixed_state(env):
    """Yawed 90 deg, moving +1 m/s along world x, spinning 2 rad/s about world z, joints at 0 moving 0.5 rad/s."""
    set_state(env, pos=(1.0, 2.0, 1.2), quat=yaw_quat(math.pi / 2), vel=(1.0, 0.0, 0.0, 0.0, 0.0, 2.0), qd=0.5)
    env._actions[:] = 0.25
    obs = env._get_observations()[0]
    names = list(env.observation_names)

    def at(name: str) -> float:
        return float(obs[names.index(name)])

    assert at("base_height") == pytest.approx(1.2, abs=1e-6)
    assert (at("base_lin_vel_x"), at("base_lin_vel_y")) == (pytest.approx(0.0, abs=1e-5), pytest.approx(-1.0))
    assert at("base_ang_vel_z") == pytest.approx(2.0 * 0.25)  # Isaac Lab scales it by 0.25
    assert at("base_yaw") == pytest.approx(math.pi / 2) and at("base_roll") == pytest.approx(0.0, abs=1e-6)
    assert at("base_angle_to_target") == pytest.approx(math.atan2(-2.0, 999.0) - math.pi / 2, abs=1e-5)
    assert at("base_up_proj") == pytest.approx(1.0)
    assert at("base_heading_proj") == pytest.approx(-2.0 / math.hypot(999.0, 2.0), abs=1e-5)
    # left_thigh:1 (hip flexion) at 0 in [-120, 45] deg -> 2 (0 + 37.5) / 165; the knee at 0 in [-160, 2]
    assert at("joint_pos_norm_left_thigh:1") == pytest.approx(2 * 37.5 / 165, abs=1e-4)
    assert at("joint_pos_norm_right_shin") == pytest.approx(2 * 79 / 162, abs=1e-4)
    assert at("joint_vel_lower_waist:0") == pytest.approx(0.5 * 0.1)
    assert at("action_right_lower_arm") == 0.25
    assert len(names) == obs.numel() == 87
    assert names[-21:] == [f"action_{j}" for j in JOINTS] and names[-33] == "left_foot_fx"


def test_feet_forces_are_scaled_incoming_wrenches(env):
    """The feet columns are the backend's incoming wrenches of left_foot and right_foot x 0.01."""
    set_state(env, q=torch.zeros(env.action_dim))
    for _ in range(40):  # landed and standing (see the drop test)
        env.backend.step()
    env._frame = None
    obs = env._get_observations()
    wrench = env.backend.body_incoming_wrenches()[:, [env.backend.body_names.index(f) for f in env.feet]]
    assert torch.allclose(obs[:, -33:-21], wrench.reshape(env.num_envs, -1) * 0.01)
    assert wrench.abs().sum() > 0  # the feet carry the robot


def test_reward_terms_on_a_fixed_state(env):
    """From (0, 0) to (0.1, 0) along the target direction in one step, upright, heading at the target, actions
    0.5, joint velocities 1 rad/s, the hip flexion (gear 135, the largest) 1 % of its range past the 0.98 threshold."""
    set_state(env)
    env._potentials[:] = mdp.potential(torch.zeros(env.num_envs, 3), env._target.expand(env.num_envs, 3), DT)
    hip = env.joints.index("left_thigh:1")
    lo, hi = env._limits[hip]
    q = torch.zeros(env.action_dim)
    q[hip] = hi - 0.01 * (hi - lo) / 2  # normalized 0.99
    set_state(env, pos=(0.1, 0.0, ROOT_HEIGHT), q=q, qd=1.0)
    env._actions[:] = 0.5
    terminated = torch.tensor([False, True])
    reward = env._get_rewards(terminated)
    progress, alive, upright, move, action_l2 = 0.1 / DT, 2.0, 0.1, 0.5, -0.01 * 21 * 0.25
    energy = -0.005 * sum(0.5 * 1.0 * g / 135.0 for g in GEARS.values())  # sum of gear / max gear = 9.5
    limits = -0.25 * (0.99 - 0.98) / 0.02 * 1.0
    alive_sum = progress + alive + upright + move + action_l2 + energy + limits
    assert float(reward[0]) == pytest.approx(alive_sum * DT, abs=1e-4)
    assert float(reward[1]) == pytest.approx((alive_sum - alive) * DT - 1.0, abs=1e-4)  # not alive, -1 once


def test_terminates_below_the_torso_height(env):
    for z, expected in ((0.79, True), (0.81, False)):
        set_state(env, pos=(0.0, 0.0, z))
        terminated, _ = env._get_dones()
        assert terminated.tolist() == [expected] * env.num_envs
    env.episode_length_buf[:] = env.max_episode_length
    assert env._get_dones()[1].all() and env.max_episode_length == 960


# -- scene and front ends ----------------------------------------------------------------------------


def test_scene_is_usd_physics_every_engine_reads():
    """The humanoid scene as PhysX (Kit) would read it: joints named after their child bodies, Isaac Lab's
    stiffness / damping on each free axis of each joint (per degree in USD), in every clone."""
    from pxr import Usd, UsdPhysics

    from isaaclab_trainer.sim.humanoid import joint_axes
    from isaaclab_trainer.sim.scene import build_humanoid_scene

    stage = Usd.Stage.CreateInMemory()
    envs = build_humanoid_scene(stage, 2)
    for env_path in envs:
        robot = stage.GetPrimAtPath(f"{env_path}/Robot")
        assert robot.HasAPI(UsdPhysics.ArticulationRootAPI)  # one root, where Kit's pattern finds it
        assert not robot.GetChild("torso").HasAPI(UsdPhysics.ArticulationRootAPI)
        dofs = {name: (prim, axis) for prim in Usd.PrimRange(robot) for name, axis in joint_axes(prim)}
        assert sorted(dofs) == sorted(JOINTS)
        for name, ke, kd in (("left_thigh:1", 20.0, 5.0), ("right_shin", 5.0, 0.1), ("lower_waist:0", 20.0, 5.0)):
            prim, axis = dofs[name]
            (child,) = UsdPhysics.Joint(prim).GetBody1Rel().GetTargets()
            assert str(child).startswith(f"{env_path}/Robot/") and child.name == name.split(":")[0]
            drive = UsdPhysics.DriveAPI(prim, axis)
            assert drive.GetStiffnessAttr().Get() == pytest.approx(ke * math.pi / 180)
            assert drive.GetDampingAttr().Get() == pytest.approx(kd * math.pi / 180)
            assert drive.GetMaxForceAttr().Get() == EFFORT_LIMIT


def test_video_frames_show_the_robot_where_the_physics_has_it():
    """3-D frames place each dof of the multi-axis joints by name: bending the hip (left_thigh:1) alone moves the
    left leg in the picture, and the frame of the default pose is drawn again for the default pose."""
    env = make_task_env(TASK, num_envs=1, render_mode="rgb_array")
    try:
        env.reset(seed=0)
        bent = torch.zeros(env.action_dim)
        bent[env.joints.index("left_thigh:1")] = -1.5
        frames = []
        for q in (torch.zeros(env.action_dim), bent, torch.zeros(env.action_dim)):
            set_state(env, q=q)
            frames.append(env.render().astype(int))
    finally:
        env.close()
    assert frames[0].shape == (540, 960, 3)
    moved = (abs(frames[0] - frames[1]).sum(-1) > 60).mean()
    assert moved > 0.001  # the leg swung in the picture
    assert (abs(frames[0] - frames[2]).sum(-1) > 60).mean() < moved / 10  # and back


def test_short_training_run_writes_a_playable_model(tmp_path):
    res = run_script(
        TRAIN, "--task", "Isaac-Humanoid", "--num_envs", "4", "--max_iterations", "2", "--headless", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path / "logs" / "sb3" / "Isaac-Humanoid").iterdir()
    assert (run / "model.zip").is_file() and (run / "params" / "env.yaml").is_file()
    play = ("--task", "Isaac-Humanoid", "--num_envs", "2", "--use_last_checkpoint", "--num_episodes", "2")
    res = run_script(PLAY, *play, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert re.search(r"mean return", res.stdout + res.stderr), res.stdout
    res = run_script(EXPORT, "--task", "Isaac-Humanoid", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    meta = json.loads((run / "exported" / "policy.json").read_text())
    assert meta["input"]["shape"] == ["batch", 87] and meta["output"]["shape"] == ["batch", 21]
    scaling = meta["action_scaling"]
    assert scaling["joint"] == list(JOINTS) and scaling["scale"] == [GEARS[j] for j in JOINTS]
