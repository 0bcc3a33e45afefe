"""Isaac-Ant-v0 (Isaac Lab 3.0: ``Isaac-Ant``): make the ant run toward a target 1 km away along +x.

The terms, their order, scales and weights are Isaac Lab 3.0's manager-based Ant (``ant_manager_env_cfg.py``;
table in ``config/tasks/Isaac-Ant-v0.yaml``). Isaac Lab's reward manager multiplies every weighted term by the
step dt except the termination penalty, which counts once; so does :meth:`AntEnv._get_rewards`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from isaaclab_trainer.envs.base_env import BatchedTaskEnv
from isaaclab_trainer.envs.render import make_renderer_3d
from isaaclab_trainer.sim.ant import DEFAULT_JOINT_POS, FEET, ROOT_HEIGHT
from isaaclab_trainer.sim.backends.base import quat_apply_inverse
from isaaclab_trainer.sim.scene import build_ant_scene
from isaaclab_trainer.tasks.locomotion import mdp

from .env_cfg import AntEnvCfg

JOINTS = tuple(DEFAULT_JOINT_POS)
#: MuJoCo Warp settings of Isaac Lab 3.0's ``AntPhysicsCfg.newton_mjwarp`` (``ant_common.py``)
MJWARP_OPTIONS = {"njmax": 45, "nconmax": 25, "cone": "pyramidal", "integrator": "implicitfast", "impratio": 1}


class AntEnv(BatchedTaskEnv):
    """Isaac-Ant-v0: 8 joint efforts in, 60 observations out."""

    observation_dim = 60
    action_dim = 8
    observation_names = (
        "base_height",
        *(f"base_lin_vel_{a}" for a in "xyz"),
        *(f"base_ang_vel_{a}" for a in "xyz"),
        "base_yaw",
        "base_roll",
        "base_angle_to_target",
        "base_up_proj",
        "base_heading_proj",
        *(f"joint_pos_norm_{j}" for j in JOINTS),
        *(f"joint_vel_{j}" for j in JOINTS),
        *(f"{foot}_{c}" for foot in FEET for c in ("fx", "fy", "fz", "tx", "ty", "tz")),
        *(f"action_{j}" for j in JOINTS),
    )
    observation_units = (
        "m",
        *("m/s",) * 3,
        *("rad/s",) * 3,
        *("rad",) * 3,
        "1",
        "1",
        *("1",) * 8,
        *("0.2 rad/s",) * 8,
        *("0.1 N", "0.1 N", "0.1 N", "0.1 N m", "0.1 N m", "0.1 N m") * 4,
        *("1",) * 8,
    )
    action_names = tuple(f"{j}_effort" for j in JOINTS)
    #: Isaac Lab 3.0's SB3 wrapper bounds (the effort clip makes larger actions pointless)
    action_bounds = (-1.0, 1.0)

    def __init__(self, cfg: AntEnvCfg, render_mode: str | None = None, stage: Any = None):
        super().__init__(cfg, render_mode, stage)
        # dof and body columns by name: engines need not report them in the order above
        names = self.backend.joint_names
        self._dofs = torch.tensor([names.index(j) for j in JOINTS], device=self.device)
        self._feet = torch.tensor([self.backend.body_names.index(f) for f in FEET], device=self.device)
        self._default_q = torch.tensor([DEFAULT_JOINT_POS[j] for j in JOINTS], device=self.device)
        self._limits = self.backend.joint_limits()[self._dofs].to(self.device)
        self._gear_scaled = torch.full((self.action_dim,), cfg.joint_gear, device=self.device) / cfg.joint_gear
        self._target = torch.tensor(cfg.target, device=self.device)
        self._default_root = torch.tensor((0.0, 0.0, ROOT_HEIGHT, 0.0, 0.0, 0.0, 1.0), device=self.device)
        self._actions = torch.zeros(self.num_envs, self.action_dim, device=self.device)
        self._efforts = torch.zeros(self.num_envs, self.backend.num_dofs, device=self.device)
        self._potentials = torch.zeros(self.num_envs, device=self.device)
        self._frame: dict[str, torch.Tensor] | None = None  # this step's base state, read once (see _base)

    @staticmethod
    def build_scene(stage: Any, cfg: AntEnvCfg) -> None:
        build_ant_scene(stage, cfg.num_envs, env_spacing=cfg.env_spacing)

    @staticmethod
    def engine_options(cfg: AntEnvCfg) -> dict[str, Any]:
        options = MJWARP_OPTIONS if cfg.newton_solver == "mujoco" else {}
        return {"solver": cfg.newton_solver, "contacts": True, "solver_options": options}

    @classmethod
    def action_metadata(cls, cfg: AntEnvCfg) -> dict[str, Any]:
        return {
            "included": False,
            "scale": cfg.action_scale,
            "effort_limit": cfg.effort_clip,
            "joint": list(JOINTS),
            "unit": "N m",
            "formula": f"effort = clamp(action * {cfg.action_scale}, -{cfg.effort_clip}, {cfg.effort_clip}) N m "
            "on each joint, in the order of 'joint'",
        }

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:  # built on the first frame: only runs that record video pay for it
            self._renderer = make_renderer_3d(
                self.stage, self.num_envs, self.backend.joint_names, (0.5, 0.0, 0.3), (1.5, 1.2, 0.4)
            )
        return self._renderer(self.backend.joint_pos().cpu().numpy(), self.backend.root_pose().cpu().numpy())

    # -- state ------------------------------------------------------------------------------

    def _base(self) -> dict[str, torch.Tensor]:
        """The base and joint state after this step's physics, read from the backend once and shared by the
        dones, the rewards and the observations (cleared by the next step and by resets)."""
        if self._frame is None:
            root = self.backend.root_pose()
            pos, quat = root[:, :3], root[:, 3:]
            self._frame = {
                "pos": pos,
                "quat": quat,
                "up": mdp.up_proj(quat),
                "heading": mdp.heading_proj(pos, quat, self._target),
                "q": self.backend.joint_pos()[:, self._dofs],
                "qd": self.backend.joint_vel()[:, self._dofs],
            }
        return self._frame

    def _pre_physics_step(self, action: torch.Tensor) -> None:
        self._frame = None
        self._actions = action.clone()
        effort = torch.clamp(action * self.cfg.action_scale, -self.cfg.effort_clip, self.cfg.effort_clip)
        self._efforts[:, self._dofs] = effort

    def _apply_action(self) -> None:
        self.backend.set_joint_efforts(self._efforts)

    def _get_observations(self) -> torch.Tensor:
        cfg, b, n = self.cfg, self._base(), self.num_envs
        pos, quat = b["pos"], b["quat"]
        # linear and angular velocity into the base frame in one rotation
        vel = quat_apply_inverse(quat.unsqueeze(1).expand(n, 2, 4), self.backend.root_velocity().view(n, 2, 3))
        roll, yaw = mdp.roll_yaw(quat)
        feet = self.backend.body_incoming_wrenches()[:, self._feet].reshape(n, -1)
        return torch.cat(
            (
                pos[:, 2:3],
                vel.view(n, 6),
                mdp.wrap_to_pi(torch.stack((yaw, roll), dim=-1)),
                mdp.angle_to_target(pos, quat, self._target, yaw).unsqueeze(-1),
                b["up"].unsqueeze(-1),
                b["heading"].unsqueeze(-1),
                mdp.scale_transform(b["q"], self._limits[:, 0], self._limits[:, 1]),
                b["qd"] * cfg.joint_vel_scale,
                feet * cfg.feet_force_scale,
                self._actions,
            ),
            dim=-1,
        )

    def _get_dones(self) -> tuple[torch.Tensor, torch.Tensor]:
        terminated = self._base()["pos"][:, 2] < self.cfg.termination_height
        truncated = self.episode_length_buf >= self.max_episode_length
        return terminated, truncated

    def _get_rewards(self, terminated: torch.Tensor) -> torch.Tensor:
        cfg, b = self.cfg, self._base()
        prev = self._potentials
        self._potentials = mdp.potential(b["pos"], self._target, self.step_dt)
        weighted = (
            cfg.rew_progress * (self._potentials - prev)
            + cfg.rew_alive * (~terminated).float()
            + cfg.rew_upright * (b["up"] > cfg.upright_threshold).float()
            + cfg.rew_move_to_target * mdp.move_to_target_bonus(b["heading"], cfg.move_to_target_threshold)
            + cfg.rew_action_l2 * self._actions.square().sum(-1)
            + cfg.rew_energy * mdp.power_consumption(self._actions, b["qd"], self._gear_scaled)
            + cfg.rew_joint_limits
            * mdp.joint_pos_limits_penalty_ratio(b["q"], self._limits, cfg.joint_limits_threshold, self._gear_scaled)
        )
        return weighted * self.step_dt + cfg.rew_terminated * terminated.float()

    def _reset_idx(self, env_ids: torch.Tensor) -> None:
        super()._reset_idx(env_ids)
        self._frame = None
        n = env_ids.numel()
        root = self._default_root.expand(n, -1)
        self.backend.write_root_state(env_ids, root, torch.zeros(n, 6, device=self.device))
        offsets = torch.stack([self._uniform(self.cfg.reset_joint_pos, n) for _ in JOINTS], dim=-1)
        q = torch.clamp(self._default_q + offsets, self._limits[:, 0], self._limits[:, 1])
        qd = torch.stack([self._uniform(self.cfg.reset_joint_vel, n) for _ in JOINTS], dim=-1)
        pos = torch.zeros(n, self.backend.num_dofs, device=self.device)
        vel = torch.zeros_like(pos)
        pos[:, self._dofs], vel[:, self._dofs] = q, qd
        self.backend.write_joint_state(env_ids, pos, vel)
        self._actions[env_ids] = 0.0
        self._potentials[env_ids] = mdp.potential(root[:, :3], self._target, self.step_dt)
