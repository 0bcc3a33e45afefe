"""Fixed states for the locomotion tasks' tests (Ant, Humanoid): written straight into the physics backend."""

from __future__ import annotations

import math

import torch


def set_state(env, pos=None, quat=(0.0, 0.0, 0.0, 1.0), vel=(0.0,) * 6, q=None, qd=0.0) -> None:
    """Every env to one root state (``pos`` default: the robot's root height) and joint state (joint values in
    the task's ``joints`` order, default: its default joint positions)."""
    n, be = env.num_envs, env.backend
    ids = torch.arange(n)
    pos = (0.0, 0.0, env.root_height) if pos is None else pos
    pose = torch.tensor((*pos, *quat)).expand(n, 7)
    be.write_root_state(ids, pose, torch.tensor(vel).expand(n, 6))
    q = env._default_q if q is None else torch.as_tensor(q, dtype=torch.float32)
    pos_all = torch.zeros(n, be.num_dofs)
    vel_all = torch.zeros(n, be.num_dofs)
    pos_all[:, env._dofs] = q.expand(n, -1)
    vel_all[:, env._dofs] = qd
    be.write_joint_state(ids, pos_all, vel_all)
    env._frame = None  # the env reads the new state (it caches one read per step)


def yaw_quat(angle: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2))
