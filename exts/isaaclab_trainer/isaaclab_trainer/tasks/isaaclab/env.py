"""An ``isaaclab:`` task's env: Isaac Lab's own env (``gym.make(<id>, cfg=...)``) in Isaac Lab's kitless launch,
with the config :func:`.configs.build_env_cfg` resolved.

It speaks this package's env contract as Isaac Lab 3.0 does: ``{"policy": obs}`` tensors, finished envs reset
inside ``step()``, and (``compute_final_obs``) their pre-reset observation in ``extras["final_obs"]``, which the SB3
wrapper hands on as ``terminal_observation``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import gymnasium as gym

from isaaclab_trainer.utils import ConfigError

from .configs import LAUNCH_ARGS, build_env_cfg
from .env_cfg import IsaacLabEnvCfg


class NewtonView:
    """What the browser panel's 3-D view draws of an Isaac Lab env on Newton: Isaac Lab's Newton model and its
    current state (``NewtonManager``). Isaac Lab's cloner places every env's bodies at their world positions, so the
    view adds no offsets (``env_origins`` all zero)."""

    def __init__(self, num_envs: int):
        import numpy as np

        self.env_origins = np.zeros((num_envs, 3), dtype=np.float32)

    @property
    def model(self) -> Any:
        from isaaclab_newton.physics.newton_manager import NewtonManager

        return NewtonManager.get_model()

    @property
    def state(self) -> Any:
        from isaaclab_newton.physics.newton_manager import NewtonManager

        return NewtonManager.get_state_0()


class IsaacLabEnv(gym.Wrapper):
    """Isaac Lab's env of ``cfg.task``; ``unwrapped`` is Isaac Lab's ``ManagerBasedRLEnv`` / ``DirectRLEnv``."""

    def __init__(self, cfg: IsaacLabEnvCfg, render_mode: str | None = None, stage: Any = None):
        if stage is not None:
            raise ConfigError(f"isaaclab:{cfg.task} builds its own scene; it cannot be given a USD stage")
        from isaaclab.app.sim_launcher import launch_simulation

        env_cfg = build_env_cfg(cfg)  # checked there, Kit needs included
        self._launch = contextlib.ExitStack()
        self._launch.enter_context(launch_simulation(env_cfg, dict(LAUNCH_ARGS)))
        try:
            # its EnvSpec, not its id: gymnasium resolves an unversioned id to a versioned one of the same name
            # (``Isaac-Cartpole`` to this package's ``Isaac-Cartpole-v0``)
            env = gym.make(gym.registry[cfg.task], cfg=env_cfg, render_mode=render_mode)
        except BaseException:
            self._launch.close()
            raise
        super().__init__(env)
        self.cfg = cfg
        #: the panel's 3-D view of the Newton model (``ui/browser.py``'s ``newton_backend``)
        self.backend = NewtonView(cfg.num_envs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._launch.close()
