"""The physics-backend interface the envs talk to.

An env never touches an engine directly: it reads joint state, writes joint efforts, resets
selected envs and steps through this interface. Newton implements it everywhere; PhysX
implements it inside Isaac Sim, so the env code is the same in both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


def canonical_device(device: str) -> str:
    """``"cuda"`` as ``"cuda:0"``, other torch device names as torch spells them."""
    return "cuda:0" if device == "cuda" else str(torch.device(device))


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
    def step(self) -> None:
        """Advance every env by one :attr:`physics_dt`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources."""
