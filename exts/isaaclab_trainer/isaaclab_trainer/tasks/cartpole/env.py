"""The cartpole tasks with Isaac Lab's semantics.

* :class:`CartpoleEnv` is ``Isaac-Cartpole-v0`` (manager-based): obs ``[cart pos, pole pos,
  cart vel, pole vel]``, rewards multiplied by the step dt, time-out after 300 steps, only
  the cart's bounds terminate.
* :class:`CartpoleDirectEnv` is ``Isaac-Cartpole-Direct-v0``: obs ``[pole pos, pole vel,
  cart pos, cart vel]``, raw rewards, time-out after 299 steps, terminated by the cart's
  bounds or a pole beyond 90°.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from isaaclab_trainer.envs.base_env import BatchedTaskEnv
from isaaclab_trainer.envs.render import make_renderer
from isaaclab_trainer.sim.cartpole import JOINT_NAMES, CartpoleSpec
from isaaclab_trainer.sim.scene import build_scene

from .env_cfg import CartpoleEnvCfg


def wrap_to_pi(angle: torch.Tensor) -> torch.Tensor:
    """Angles wrapped to ``[-pi, pi)``."""
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


class CartpoleEnv(BatchedTaskEnv):
    """Isaac-Cartpole-v0: push the cart to keep the pole upright."""

    observation_dim = 4
    action_dim = 1
    observation_names = ("cart_pos", "pole_pos", "cart_vel", "pole_vel")
    observation_units = ("m", "rad", "m/s", "rad/s")
    action_names = ("cart_effort",)
    #: the SB3 wrapper's action clip of Isaac Lab 2.3 (the task's actions are unbounded efforts / 100 N)
    action_bounds = (-100.0, 100.0)

    def __init__(self, cfg: CartpoleEnvCfg, render_mode: str | None = None, stage: Any = None):
        super().__init__(cfg, render_mode, stage)
        # dof columns by name: PhysX need not report them in authoring order
        self._cart, self._pole = (self.backend.joint_names.index(name) for name in JOINT_NAMES)
        self._efforts = torch.zeros(self.num_envs, self.backend.num_dofs, device=self.device)

    @staticmethod
    def build_scene(stage: Any, cfg: CartpoleEnvCfg) -> None:
        build_scene(stage, cfg.num_envs, env_spacing=cfg.env_spacing)

    @classmethod
    def action_metadata(cls, cfg: CartpoleEnvCfg) -> dict[str, Any]:
        limit = CartpoleSpec().effort_limit
        return {
            "included": False,
            "scale": cfg.action_scale,
            "effort_limit": limit,
            "joint": JOINT_NAMES[0],
            "unit": "N",
            "formula": f"effort = clamp(action * {cfg.action_scale}, -{limit}, {limit}) N on {JOINT_NAMES[0]}",
        }

    def _pre_physics_step(self, action: torch.Tensor) -> None:
        self._efforts[:, self._cart] = action[:, 0] * self.cfg.action_scale

    def _apply_action(self) -> None:
        self.backend.set_joint_efforts(self._efforts)

    def _get_observations(self) -> torch.Tensor:
        q, qd = self.backend.joint_pos(), self.backend.joint_vel()
        return torch.cat((q, qd), dim=-1)

    def _reward_terms(self, terminated: torch.Tensor, pole_angle: torch.Tensor) -> torch.Tensor:
        qd = self.backend.joint_vel()
        cfg = self.cfg
        alive = (~terminated).float()
        return (
            cfg.rew_alive * alive
            + cfg.rew_terminated * terminated.float()
            + cfg.rew_pole_pos * pole_angle.square()
            + cfg.rew_cart_vel * qd[:, self._cart].abs()
            + cfg.rew_pole_vel * qd[:, self._pole].abs()
        )

    def _get_rewards(self, terminated: torch.Tensor) -> torch.Tensor:
        pole = wrap_to_pi(self.backend.joint_pos()[:, self._pole])
        return self._reward_terms(terminated, pole) * self.step_dt

    def _get_dones(self) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.backend.joint_pos()
        terminated = q[:, self._cart].abs() > self.cfg.cart_bounds
        if self.cfg.max_pole_angle is not None:
            terminated |= q[:, self._pole].abs() > self.cfg.max_pole_angle
        truncated = self.episode_length_buf >= self._time_out_length()
        return terminated, truncated

    def _time_out_length(self) -> int:
        return self.max_episode_length

    def _reset_idx(self, env_ids: torch.Tensor) -> None:
        super()._reset_idx(env_ids)
        n = env_ids.numel()
        cfg = self.cfg
        pos = torch.zeros(n, self.backend.num_dofs, device=self.device)
        vel = torch.zeros_like(pos)
        pos[:, self._cart] = self._uniform(cfg.reset_cart_pos, n)
        pos[:, self._pole] = self._uniform(cfg.reset_pole_pos, n)
        vel[:, self._cart] = self._uniform(cfg.reset_cart_vel, n)
        vel[:, self._pole] = self._uniform(cfg.reset_pole_vel, n)
        self.backend.write_joint_state(env_ids, pos, vel)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:  # built on the first frame: only runs that record video pay for it
            self._renderer = make_renderer(
                self.stage, self.num_envs, self.backend.joint_names, self.cfg.cart_bounds, CartpoleSpec()
            )
        return self._renderer(self.backend.joint_pos().cpu().numpy())


class CartpoleDirectEnv(CartpoleEnv):
    """Isaac-Cartpole-Direct-v0: the direct-workflow cartpole."""

    observation_names = ("pole_pos", "pole_vel", "cart_pos", "cart_vel")
    observation_units = ("rad", "rad/s", "m", "m/s")

    def _get_observations(self) -> torch.Tensor:
        q, qd = self.backend.joint_pos(), self.backend.joint_vel()
        return torch.stack((q[:, self._pole], qd[:, self._pole], q[:, self._cart], qd[:, self._cart]), dim=-1)

    def _get_rewards(self, terminated: torch.Tensor) -> torch.Tensor:
        return self._reward_terms(terminated, self.backend.joint_pos()[:, self._pole])

    def _time_out_length(self) -> int:
        return self.max_episode_length - 1
