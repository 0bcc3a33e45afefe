"""The physics-backend interface the envs talk to.

An env never touches an engine directly: it reads joint state, the root's pose and velocity, body
poses and the wrenches bodies receive through their joints (what carries a foot's contact), writes
joint efforts, resets selected envs and steps through this interface. Newton implements it
everywhere; PhysX implements it inside Isaac Sim, so the env code is the same in both.

Conventions (Isaac Lab 3.0's): positions in metres in the env's own frame (each env's origin
subtracted), quaternions ``(x, y, z, w)``, velocities in the world frame, linear then angular.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


def canonical_device(device: str) -> str:
    """``"cuda"`` as ``"cuda:0"``, other torch device names as torch spells them."""
    return "cuda:0" if device == "cuda" else str(torch.device(device))


def quat_apply_inverse(quat: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    """``vec`` rotated by the inverse of ``quat`` ``(x, y, z, w)``: a world-frame vector in the body frame."""
    xyz, w = -quat[..., :3], quat[..., 3:]
    t = 2.0 * torch.cross(xyz, vec, dim=-1)
    return vec + w * t + torch.cross(xyz, t, dim=-1)


class PhysicsBackend(ABC):
    """Batched joint-space access to ``num_envs`` copies of one articulation.

    Tensors are ``torch.float32`` on :attr:`device`, shaped ``(num_envs, num_dofs)`` with the
    dofs in :attr:`joint_names` order.
    """

    #: number of parallel environments
    num_envs: int
    #: torch device string of the returned tensors, e.g. ``"cpu"`` or ``"cuda:0"``
    device: str
    #: one physics step, in seconds
    physics_dt: float
    #: dof names in tensor column order, e.g. ``["slider_to_cart", "cart_to_pole"]``
    joint_names: list[str]
    #: rigid body names in the order of :meth:`body_poses` / :meth:`body_incoming_wrenches` rows
    body_names: list[str]

    @property
    def num_dofs(self) -> int:
        return len(self.joint_names)

    @abstractmethod
    def joint_pos(self) -> torch.Tensor:
        """Joint positions, ``(num_envs, num_dofs)``."""

    @abstractmethod
    def joint_vel(self) -> torch.Tensor:
        """Joint velocities, ``(num_envs, num_dofs)``."""

    @abstractmethod
    def set_joint_efforts(self, efforts: torch.Tensor) -> None:
        """Joint forces/torques held for the following :meth:`step` calls, ``(num_envs, num_dofs)``.

        The backend clamps them to the articulation's effort limits.
        """

    @abstractmethod
    def write_joint_state(self, env_ids: torch.Tensor, pos: torch.Tensor, vel: torch.Tensor) -> None:
        """Teleport the joints of ``env_ids`` (long tensor) to ``pos``/``vel`` ``(len(env_ids), num_dofs)``."""

    @abstractmethod
    def joint_limits(self) -> torch.Tensor:
        """Position limits of the dofs, ``(num_dofs, 2)`` (lower, upper) in rad or m."""

    @abstractmethod
    def root_pose(self) -> torch.Tensor:
        """The root body's pose in its env's frame, ``(num_envs, 7)``: position, quaternion ``(x, y, z, w)``."""

    @abstractmethod
    def root_velocity(self) -> torch.Tensor:
        """The root body's world-frame velocity, ``(num_envs, 6)``: linear [m/s], angular [rad/s]."""

    @abstractmethod
    def write_root_state(self, env_ids: torch.Tensor, pose: torch.Tensor, velocity: torch.Tensor) -> None:
        """Teleport the root of ``env_ids`` to ``pose`` ``(n, 7)``, ``velocity`` ``(n, 6)`` (floating bases only)."""

    @abstractmethod
    def body_poses(self) -> torch.Tensor:
        """Every body's pose in its env's frame, ``(num_envs, num_bodies, 7)``, rows in :attr:`body_names` order."""

    @abstractmethod
    def body_incoming_wrenches(self) -> torch.Tensor:
        """The wrench each body receives from its parent joint, ``(num_envs, num_bodies, 6)``: force [N] then
        torque [N m], in the body's frame. A foot's carries its ground contact to the leg (Isaac Lab's
        ``body_incoming_wrench`` observation)."""

    @abstractmethod
    def step(self) -> None:
        """Advance every env by one :attr:`physics_dt`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources."""
