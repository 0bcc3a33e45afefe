"""Observation and reward terms of the locomotion tasks, as Isaac Lab 3.0 computes them
(``isaaclab_tasks/core/locomotion/mdp`` and ``isaaclab/envs/mdp``), on plain tensors so that tests can feed
them fixed states. Quaternions are ``(x, y, z, w)``, as in Isaac Lab 3.0 and Newton.
"""

from __future__ import annotations

import math

import torch

from isaaclab_trainer.sim.backends.base import quat_apply_inverse


def quat_apply(quat: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    """``vec`` rotated by ``quat`` ``(x, y, z, w)``."""
    return quat_apply_inverse(torch.cat((-quat[..., :3], quat[..., 3:]), dim=-1), vec)


def wrap_to_pi(angle: torch.Tensor) -> torch.Tensor:
    """Angles wrapped to ``[-pi, pi)``."""
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


def roll_yaw(quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Roll and yaw of :func:`euler_xyz`, without its pitch (the observations use these two)."""
    x, y, z, w = quat.unbind(-1)
    roll = torch.atan2(2.0 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    yaw = torch.atan2(2.0 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, yaw


def euler_xyz(quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Roll, pitch, yaw (extrinsic XYZ) of ``quat`` (Isaac Lab's ``euler_xyz_from_quat``)."""
    x, y, z, w = quat.unbind(-1)
    roll, yaw = roll_yaw(quat)
    sin_pitch = 2.0 * (w * y - z * x)
    pitch = torch.where(
        sin_pitch.abs() >= 1,
        torch.copysign(torch.full_like(sin_pitch, math.pi / 2), sin_pitch),
        torch.asin(sin_pitch.clamp(-1, 1)),
    )
    return roll, pitch, yaw


def scale_transform(x: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """``x`` mapped from ``[lower, upper]`` to ``[-1, 1]`` (Isaac Lab's ``scale_transform``)."""
    return 2 * (x - (lower + upper) * 0.5) / (upper - lower)


def up_proj(quat: torch.Tensor) -> torch.Tensor:
    """Projection of the base's up axis on the world's up axis (``base_up_proj``, ``-projected_gravity_b.z``):
    the rotation matrix's ``R_zz = 1 - 2 (x^2 + y^2)``."""
    x, y = quat[..., 0], quat[..., 1]
    return 1 - 2 * (x * x + y * y)


def forward_axis_xy(quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y of the base's forward axis (+x of the body) in the world: ``R_xx``, ``R_yx``."""
    x, y, z, w = quat.unbind(-1)
    return 1 - 2 * (y * y + z * z), 2 * (x * y + w * z)


def to_target(root_pos: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The planar vector from the base to the target (z zeroed), env frame."""
    d = target - root_pos
    return torch.cat((d[..., :2], torch.zeros_like(d[..., 2:])), dim=-1)


def heading_proj(root_pos: torch.Tensor, quat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Projection of the base's forward axis (+x) on the planar direction to the target (``base_heading_proj``)."""
    d = target[..., :2] - root_pos[..., :2]
    fx, fy = forward_axis_xy(quat)
    return (fx * d[..., 0] + fy * d[..., 1]) / d.norm(dim=-1).clamp_min(1e-12)


def angle_to_target(
    root_pos: torch.Tensor, quat: torch.Tensor, target: torch.Tensor, yaw: torch.Tensor | None = None
) -> torch.Tensor:
    """Angle from the base's yaw to the direction of the target, in ``[-pi, pi)`` (``base_angle_to_target``);
    ``yaw`` is ``quat``'s, where the caller has it already."""
    d = target - root_pos
    yaw = roll_yaw(quat)[1] if yaw is None else yaw
    return wrap_to_pi(torch.atan2(d[..., 1], d[..., 0]) - yaw)


def potential(root_pos: torch.Tensor, target: torch.Tensor, step_dt: float) -> torch.Tensor:
    """``-planar distance to the target / step_dt``: ``progress_reward`` is its change over one step."""
    return -(target[..., :2] - root_pos[..., :2]).norm(dim=-1) / step_dt


def move_to_target_bonus(heading: torch.Tensor, threshold: float) -> torch.Tensor:
    """1 when heading at the target within ``threshold``, else ``heading / threshold``."""
    return torch.where(heading > threshold, torch.ones_like(heading), heading / threshold)


def power_consumption(action: torch.Tensor, joint_vel: torch.Tensor, gear_scaled: torch.Tensor) -> torch.Tensor:
    """``sum |action * joint_vel * gear / max gear|`` over the joints."""
    return (action * joint_vel * gear_scaled).abs().sum(-1)


def joint_pos_limits_penalty_ratio(
    joint_pos: torch.Tensor, limits: torch.Tensor, threshold: float, gear_scaled: torch.Tensor
) -> torch.Tensor:
    """Sum over joints past ``threshold`` (range mapped to [-1, 1]) of ``(|q| - threshold) / (1 - threshold) x gear``"""
    scaled = scale_transform(joint_pos, limits[:, 0], limits[:, 1])
    violation = (scaled.abs() - threshold) / (1 - threshold) * gear_scaled
    return ((scaled.abs() > threshold) * violation).sum(-1)
