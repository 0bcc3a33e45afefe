"""The locomotion env shared by Isaac-Ant-v0 and Isaac-Humanoid-v0: run toward a target 1 km away along +x.

The terms, their order, scales and weights are Isaac Lab 3.0's manager-based locomotion tasks
(``<robot>_manager_env_cfg.py``, ``locomotion/mdp``; each task's table is in its ``config/tasks/<task>.yaml``).
A robot's folder names its dofs, feet, root height, default joint positions, scene and engine settings; every
joint setting (action scale, effort clip, gear ratio) is resolved per dof from the config's numbers or
joint-name tables. Isaac Lab's reward manager multiplies every weighted term by the step dt except the
termination penalty, which counts once; so does :meth:`LocomotionEnv._get_rewards`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from isaaclab_trainer.envs.base_env import BatchedTaskEnv
from isaaclab_trainer.envs.render import make_renderer_3d
from isaaclab_trainer.sim.backends.base import quat_apply_inverse
from isaaclab_trainer.utils import resolve_matching_values

from . import mdp
from .env_cfg import LocomotionEnvCfg

WRENCH = ("fx", "fy", "fz", "tx", "ty", "tz")


def observation_names(joints: tuple[str, ...], feet: tuple[str, ...]) -> tuple[str, ...]:
    """The policy observation's columns, in Isaac Lab's term order."""
    return (
        "base_height",
        *(f"base_lin_vel_{a}" for a in "xyz"),
        *(f"base_ang_vel_{a}" for a in "xyz"),
        "base_yaw",
        "base_roll",
        "base_angle_to_target",
        "base_up_proj",
        "base_heading_proj",
        *(f"joint_pos_norm_{j}" for j in joints),
        *(f"joint_vel_{j}" for j in joints),
        *(f"{foot}_{c}" for foot in feet for c in WRENCH),
        *(f"action_{j}" for j in joints),
    )


def observation_units(
    joints: tuple[str, ...], feet: tuple[str, ...], ang_vel_scale: float, joint_vel_scale: float, force_scale: float
) -> tuple[str, ...]:
    """The units of :func:`observation_names`' columns, scaled ones as ``"<scale> <unit>"``."""

    def scaled(scale: float, unit: str) -> str:
        return unit if scale == 1 else f"{scale:g} {unit}"

    wrench = (*(scaled(force_scale, "N"),) * 3, *(scaled(force_scale, "N m"),) * 3)
    return (
        "m",
        *("m/s",) * 3,
        *(scaled(ang_vel_scale, "rad/s"),) * 3,
        *("rad",) * 3,
        "1",
        "1",
        *("1",) * len(joints),
        *(scaled(joint_vel_scale, "rad/s"),) * len(joints),
        *wrench * len(feet),
        *("1",) * len(joints),
    )


class LocomotionEnv(BatchedTaskEnv):
    """Joint efforts in, Isaac Lab's locomotion observations out; a robot's subclass sets the class data below."""

    #: the robot's dofs in observation and action order, its feet (observed wrenches), root height [m]
    joints: ClassVar[tuple[str, ...]] = ()
    feet: ClassVar[tuple[str, ...]] = ()
    root_height: ClassVar[float] = 0.0
    #: default joint positions [rad], a number or ``{joint-name regex: value}``
    default_joint_pos: ClassVar[float | dict[str, float]] = 0.0
    #: Newton engine settings of the task's Isaac Lab physics preset (``<robot>_common.py``)
    mjwarp_options: ClassVar[dict[str, Any]] = {}
    newton_substeps: ClassVar[int] = 1
    self_collisions: ClassVar[bool] = False
    #: what the video frames: center and half extent around each env's origin [m]
    video_frame: ClassVar[tuple[tuple[float, float, float], tuple[float, float, float]]] = ((0, 0, 0), (1, 1, 1))
    #: Isaac Lab 3.0's SB3 wrapper bounds (the effort clip makes larger actions pointless)
    action_bounds = (-1.0, 1.0)

    def __init__(self, cfg: LocomotionEnvCfg, render_mode: str | None = None, stage: Any = None):
        super().__init__(cfg, render_mode, stage)
        # dof and body columns by name: engines need not report them in the order above
        names = self.backend.joint_names
        self._dofs = torch.tensor([names.index(j) for j in self.joints], device=self.device)
        self._feet = torch.tensor([self.backend.body_names.index(f) for f in self.feet], device=self.device)

        def per_joint(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.float32, device=self.device)

        self._default_q = per_joint(resolve_matching_values(self.default_joint_pos, self.joints, 0.0))
        self._limits = self.backend.joint_limits()[self._dofs].to(self.device)
        self._scale = per_joint(cfg.joint_values("action_scale"))
        self._clip = per_joint(cfg.joint_values("effort_clip"))
        gear = per_joint(cfg.joint_values("joint_gear"))
        self._gear_scaled = gear / gear.max()
        self._target = torch.tensor(cfg.target, device=self.device)
        self._default_root = torch.tensor((0.0, 0.0, self.root_height, 0.0, 0.0, 0.0, 1.0), device=self.device)
        self._actions = torch.zeros(self.num_envs, self.action_dim, device=self.device)
        self._efforts = torch.zeros(self.num_envs, self.backend.num_dofs, device=self.device)
        self._potentials = torch.zeros(self.num_envs, device=self.device)
        self._frame: dict[str, torch.Tensor] | None = None  # this step's base state, read once (see _base)

    @classmethod
    def engine_options(cls, cfg: LocomotionEnvCfg) -> dict[str, Any]:
        options = cls.mjwarp_options if cfg.newton_solver == "mujoco" else {}
        return {
            "solver": cfg.newton_solver,
            "contacts": True,
            "solver_options": options,
            "self_collisions": cls.self_collisions,
            "substeps": cls.newton_substeps,
        }

    @classmethod
    def action_metadata(cls, cfg: LocomotionEnvCfg) -> dict[str, Any]:
        return {
            "included": False,
            "scale": cfg.joint_values("action_scale"),
            "effort_limit": cfg.joint_values("effort_clip"),
            "joint": list(cls.joints),
            "unit": "N m",
            "formula": "effort[i] = clamp(action[i] * scale[i], -effort_limit[i], effort_limit[i]) N m on joint[i]",
        }

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:  # built on the first frame: only runs that record video pay for it
            self._renderer = make_renderer_3d(self.stage, self.num_envs, self.backend.joint_names, *self.video_frame)
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
        self._efforts[:, self._dofs] = torch.clamp(action * self._scale, -self._clip, self._clip)

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
                vel[:, 0],
                vel[:, 1] * cfg.base_ang_vel_scale,
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
        offsets = torch.stack([self._uniform(self.cfg.reset_joint_pos, n) for _ in self.joints], dim=-1)
        q = torch.clamp(self._default_q + offsets, self._limits[:, 0], self._limits[:, 1])
        qd = torch.stack([self._uniform(self.cfg.reset_joint_vel, n) for _ in self.joints], dim=-1)
        pos = torch.zeros(n, self.backend.num_dofs, device=self.device)
        vel = torch.zeros_like(pos)
        pos[:, self._dofs], vel[:, self._dofs] = q, qd
        self.backend.write_joint_state(env_ids, pos, vel)
        self._actions[env_ids] = 0.0
        self._potentials[env_ids] = mdp.potential(root[:, :3], self._target, self.step_dt)
