"""A batched RL env in Isaac Lab's style, over any :class:`PhysicsBackend`.

``step()`` takes a ``(num_envs, action_dim)`` tensor and returns ``(obs, reward, terminated,
truncated, extras)`` tensors whose first dimension is ``num_envs``, observations as
``{"policy": tensor}``. Finished envs are reset inside ``step()``; unlike Isaac Lab (its bug
#4369) the observation each env had *before* its reset stays available as
``extras["final_obs"]["policy"]``.

Faults (the only place NaN/inf is handled): a non-finite action row is replaced by zeros before it
reaches the physics, and an env whose observation or reward is NaN/inf after the step (e.g. an
exploding physics step) is reset at once and reported as terminated with reward 0, so one bad env
never poisons the batch. Every step's ``extras`` carries ``faults`` (how many envs),
``fault_env_ids`` (a long tensor) and ``fault_reports`` (``(env ids, one-line reason)`` pairs); each
fault also logs that line as a warning.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from isaaclab_trainer.sim.backends.base import PhysicsBackend
from isaaclab_trainer.sim.backends.registry import make_backend

from .env_cfg import TaskEnvCfg
from .render import FrameRenderer

logger = logging.getLogger(__name__)


class BatchedTaskEnv(gym.Env):
    """Common step/reset loop; subclasses define observations, rewards, dones and resets."""

    metadata = {"render_modes": [None, "rgb_array"], "render_fps": 60}
    is_vector_env = True
    observation_dim: int = 0
    action_dim: int = 0
    #: per-column names and units of the policy observation and the action (exported with a policy)
    observation_names: tuple[str, ...] = ()
    observation_units: tuple[str, ...] = ()
    action_names: tuple[str, ...] = ()
    #: the action space's bounds, which SB3 clips the policy's actions to (Isaac Lab 3.0's SB3 wrapper gives an
    #: unbounded action space these bounds)
    action_bounds: tuple[float, float] = (-1.0, 1.0)

    def __init__(self, cfg: TaskEnvCfg, render_mode: str | None = None, stage: Any = None):
        if render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.cfg = cfg
        self.num_envs = cfg.num_envs
        self.device = cfg.device
        self.render_mode = render_mode
        self._renderer: FrameRenderer | None = None  # made by render() on the first frame
        self.step_dt = cfg.step_dt
        self.max_episode_length = cfg.max_episode_length
        self.metadata = {**self.metadata, "render_fps": round(1.0 / self.step_dt)}

        from pxr import Usd

        self.stage = stage if stage is not None else Usd.Stage.CreateInMemory()
        self.build_scene(self.stage, cfg)
        self.backend: PhysicsBackend = make_backend(
            cfg.backend, self.stage, self.num_envs, cfg.sim_dt, self.device, **self.engine_options(cfg)
        )

        obs_box, self.single_action_space = self.policy_spaces()
        self.single_observation_space = spaces.Dict({"policy": obs_box})
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)

        self.episode_length_buf = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.common_step_counter = 0
        #: envs found with a non-finite action, observation or reward (and reset), since construction
        self.fault_count = 0
        self.last_fault: str | None = None
        self._no_faults = torch.zeros(0, dtype=torch.long, device=self.device)
        self._generator = torch.Generator(device=self.device)
        self.seed(cfg.seed)

    @classmethod
    def policy_spaces(cls) -> tuple[spaces.Box, spaces.Box]:
        """One env's policy observation and action spaces, known without building the env (export needs them)."""
        obs = spaces.Box(-np.inf, np.inf, (cls.observation_dim,), dtype=np.float32)
        low, high = cls.action_bounds
        return obs, spaces.Box(low, high, (cls.action_dim,), dtype=np.float32)

    # -- gymnasium API -------------------------------------------------------------------

    @property
    def unwrapped(self) -> BatchedTaskEnv:
        return self

    def seed(self, seed: int = -1) -> int:
        """Seed the reset sampling (``-1`` draws a random seed); returns the seed used."""
        if seed == -1:
            seed = int(np.random.randint(0, 10_000))
        self._generator.manual_seed(int(seed))
        return int(seed)

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict[str, torch.Tensor], dict]:
        """Reset every env; returns ``({"policy": obs}, extras)``."""
        if seed is not None:
            self.seed(seed)
        self._reset_idx(torch.arange(self.num_envs, device=self.device))
        return {"policy": self._get_observations()}, {}

    def step(self, action: torch.Tensor) -> tuple[dict, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        """Apply ``action`` for ``decimation`` physics steps, score, and reset the finished envs."""
        action = torch.as_tensor(action, dtype=torch.float32, device=self.device).reshape(self.num_envs, -1)
        # fault checks: one scalar sum per tensor on the hot path (NaN/inf propagate through a sum),
        # the exact per-env isfinite(...).all(dim=-1) only when that sum is not finite
        reports: list[tuple[list[int], str]] = []
        bad_action_ids = self._no_faults
        if not math.isfinite(action.sum().item()):
            action_ok = torch.isfinite(action).all(dim=-1)
            bad_action_ids = torch.nonzero(~action_ok).flatten()
            if bad_action_ids.numel() > 0:  # (a sum can also overflow with every value finite)
                action = torch.where(action_ok.unsqueeze(-1), action, torch.zeros_like(action))
                reports.append(self._report_faults(bad_action_ids, "non-finite action from the policy", "zeroed"))
        self._pre_physics_step(action)
        for _ in range(self.cfg.decimation):
            self._apply_action()
            self.backend.step()
        self.episode_length_buf += 1
        self.common_step_counter += 1

        terminated, truncated = self._get_dones()
        reward = self._get_rewards(terminated)
        obs = self._get_observations()
        fault_ids = self._no_faults
        if not math.isfinite(obs.sum().item() + reward.sum().item()):
            obs_ok = torch.isfinite(obs).all(dim=-1)
            reward_ok = torch.isfinite(reward)
            ok = obs_ok & reward_ok
            fault_ids = torch.nonzero(~ok).flatten()
            if fault_ids.numel() > 0:  # (a sum can also overflow with every value finite)
                what = [n for n, flags in (("observation", obs_ok), ("reward", reward_ok)) if not bool(flags.all())]
                reports.append(self._report_faults(fault_ids, f"non-finite {'/'.join(what)}", "reset"))
                reward = torch.where(ok, reward, torch.zeros_like(reward))
                terminated = terminated | ~ok
                truncated = truncated & ok
        final_obs = obs
        done_ids = torch.nonzero(terminated | truncated).flatten()
        if done_ids.numel() > 0:
            self._reset_idx(done_ids)
            obs = obs.clone()
            obs[done_ids] = self._get_observations()[done_ids]
        if fault_ids.numel() > 0:  # no NaN in the terminal observation either
            final_obs = final_obs.clone()
            final_obs[fault_ids] = obs[fault_ids]
        if bad_action_ids.numel() > 0:
            fault_ids = torch.unique(torch.cat((bad_action_ids, fault_ids)))
        extras = {
            "time_outs": truncated,
            "final_obs": {"policy": final_obs},
            "faults": int(fault_ids.numel()),
            "fault_env_ids": fault_ids,
            "fault_reports": reports,
        }
        return {"policy": obs}, reward, terminated, truncated, extras

    def _report_faults(self, env_ids: torch.Tensor, what: str, done: str) -> tuple[list[int], str]:
        """Count the faulty envs and log one warning line naming them; returns ``(env ids, that line)``."""
        self.fault_count += int(env_ids.numel())
        ids = env_ids.tolist()
        shown = ", ".join(str(i) for i in ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        at = f" at step {self.common_step_counter}" if done == "reset" else ""
        self.last_fault = f"{what} in env {shown}{at}; {done}"
        logger.warning(self.last_fault)
        return ids, self.last_fault

    def render(self) -> np.ndarray | None:
        """An RGB frame of the first envs' simulated poses (``render_mode="rgb_array"``), else None."""
        return None

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.backend.close()

    # -- what a task defines ---------------------------------------------------------------

    @staticmethod
    def build_scene(stage: Any, cfg: TaskEnvCfg) -> None:
        """Author ``cfg.num_envs`` copies of the task's scene into ``stage`` (the same for every backend)."""
        raise NotImplementedError

    @staticmethod
    def engine_options(cfg: TaskEnvCfg) -> dict[str, Any]:
        """Engine settings for the physics backend (e.g. Newton's ``solver``); others ignore them."""
        return {}

    @classmethod
    def action_metadata(cls, cfg: TaskEnvCfg) -> dict[str, Any]:
        """What the env does with a policy's action (exported beside the policy files)."""
        raise NotImplementedError

    def _pre_physics_step(self, action: torch.Tensor) -> None:
        raise NotImplementedError

    def _apply_action(self) -> None:
        raise NotImplementedError

    def _get_observations(self) -> torch.Tensor:
        raise NotImplementedError

    def _get_rewards(self, terminated: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _get_dones(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _reset_idx(self, env_ids: torch.Tensor) -> None:
        self.episode_length_buf[env_ids] = 0

    def _uniform(self, low_high: tuple[float, float], n: int) -> torch.Tensor:
        low, high = low_high
        u = torch.rand(n, generator=self._generator, device=self.device)
        return low + (high - low) * u
