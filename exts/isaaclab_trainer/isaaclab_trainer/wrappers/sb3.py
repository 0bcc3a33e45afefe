"""Stable-Baselines3 adapter: a batched torch env as an SB3 ``VecEnv`` (numpy in and out).

Apply it last, after any other wrapper. Per-env Python work (info dicts) is only done for the
envs that just finished; the others share one empty, read-only info mapping.

No NaN reaches SB3 or the physics: the env zeroes non-finite action rows and resets envs with a
non-finite observation or reward (see :mod:`isaaclab_trainer.envs.base_env`); here each env it
reports (``extras["fault_reports"]``) gets ``info["fault"]``, the one-line reason.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

_NO_INFO = types.MappingProxyType({})


#: bounds SB3 clips actions to when the env's action space is unbounded (Isaac Lab 3.0's wrapper default)
UNBOUNDED_ACTION_CLIP = (-1.0, 1.0)


def sb3_action_space(space: gym.Space) -> gym.Space:
    """The action space SB3 sees, whose bounds it clips actions to: the env's own, as each task declares them
    (``BatchedTaskEnv.action_bounds``); an unbounded Box gets :data:`UNBOUNDED_ACTION_CLIP`, as Isaac Lab's does."""
    if isinstance(space, gym.spaces.Box) and not space.is_bounded("both"):
        return gym.spaces.Box(*UNBOUNDED_ACTION_CLIP, space.shape, dtype=np.float32)
    return space


def policy_spaces(env: gym.Env) -> tuple[gym.Space, gym.Space]:
    """One env's policy observation space and its action space as SB3 sees it (what the wrapper presents)."""
    unwrapped = env.unwrapped
    return unwrapped.single_observation_space["policy"], sb3_action_space(unwrapped.single_action_space)


class Sb3VecEnvWrapper(VecEnv):
    """Wrap an env whose ``step`` returns batched torch tensors and ``{"policy": obs}``.

    Infos of finished envs carry ``episode`` ``{"r", "l"}``, ``TimeLimit.truncated`` and
    ``terminal_observation``, the true observation before the env was reset.
    """

    def __init__(self, env: gym.Env):
        self.env = env
        self.unwrapped_env = env.unwrapped
        self.sim_device = torch.device(self.unwrapped_env.device)
        super().__init__(self.unwrapped_env.num_envs, *policy_spaces(env))
        self._ep_return = np.zeros(self.num_envs, dtype=np.float64)
        self._ep_length = np.zeros(self.num_envs, dtype=np.int64)
        self._actions: torch.Tensor | None = None
        #: envs reported with a fault (non-finite action, observation or reward) so far, and the last reason
        self.fault_count = 0
        self.last_fault: str | None = None

    def __str__(self) -> str:
        return f"<{type(self).__name__}{self.env}>"

    # -- VecEnv API ------------------------------------------------------------------

    def seed(self, seed: int | None = None) -> Sequence[int | None]:  # type: ignore[override]
        used = self.unwrapped_env.seed(-1 if seed is None else seed)
        return [used] * self.num_envs

    def reset(self) -> VecEnvObs:
        obs, _ = self.env.reset()
        self._ep_return[:] = 0.0
        self._ep_length[:] = 0
        return self._to_numpy(obs["policy"])

    def step_async(self, actions: np.ndarray | torch.Tensor) -> None:
        if isinstance(actions, np.ndarray):
            actions = torch.from_numpy(actions)
        self._actions = actions.to(device=self.sim_device, dtype=torch.float32)

    def step_wait(self) -> VecEnvStepReturn:
        obs_dict, reward, terminated, truncated, extras = self.env.step(self._actions)
        obs = self._to_numpy(obs_dict["policy"])
        rewards = self._to_numpy(reward).astype(np.float32, copy=False)
        terminated_np = self._to_numpy(terminated).astype(bool, copy=False)
        truncated_np = self._to_numpy(truncated).astype(bool, copy=False)
        dones = terminated_np | truncated_np
        self._ep_return += rewards
        self._ep_length += 1

        infos: list[Any] = [_NO_INFO] * self.num_envs
        done_ids = np.flatnonzero(dones)
        if done_ids.size:
            final_obs = self._to_numpy(extras["final_obs"]["policy"][torch.from_numpy(done_ids)])
            for row, idx in enumerate(done_ids):
                infos[idx] = {
                    "episode": {"r": float(self._ep_return[idx]), "l": int(self._ep_length[idx])},
                    "TimeLimit.truncated": bool(truncated_np[idx] and not terminated_np[idx]),
                    "terminal_observation": final_obs[row],
                }
            self._ep_return[done_ids] = 0.0
            self._ep_length[done_ids] = 0
        for env_ids, reason in extras.get("fault_reports", ()):
            for idx in env_ids:
                infos[idx] = {**infos[idx], "fault": reason}
            self.fault_count += len(env_ids)
            self.last_fault = reason
        return obs, rewards, dones, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.unwrapped_env, attr_name)
        return [value] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the one batched env (all indices share it)."""
        setattr(self.unwrapped_env, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        result = getattr(self.unwrapped_env, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        wrapped = False
        env = self.env
        while isinstance(env, gym.Wrapper):
            wrapped |= isinstance(env, wrapper_class)
            env = env.env
        return [wrapped] * len(self._get_indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One frame that already shows the first envs side by side (``render_mode="rgb_array"``)."""
        return [self.env.render()]

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _to_numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy()
