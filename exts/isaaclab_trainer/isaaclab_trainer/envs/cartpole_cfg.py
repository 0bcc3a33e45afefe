"""Configuration of the cartpole tasks: plain data, loaded from ``config/tasks/<task>.yaml``.

The numbers are Isaac Lab 2.3's (see the YAML files); the semantics that differ between the
manager-based and the direct task (observation order, reward scaling, terminations) live in
the env classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class CartpoleEnvCfg:
    """Scene, simulation, action, reward and reset settings of a cartpole task."""

    num_envs: int = 64
    seed: int = 42
    device: str = "cpu"
    backend: str = "auto"
    env_spacing: float = 4.0
    sim_dt: float = 1.0 / 120.0
    decimation: int = 2
    episode_length_s: float = 5.0
    action_scale: float = 100.0
    # terminations: |cart position| beyond cart_bounds; |pole angle| beyond max_pole_angle if set
    cart_bounds: float = 3.0
    max_pole_angle: float | None = None
    # reward weights
    rew_alive: float = 1.0
    rew_terminated: float = -2.0
    rew_pole_pos: float = -1.0
    rew_cart_vel: float = -0.01
    rew_pole_vel: float = -0.005
    # reset: uniform offsets from the default joint state (0, 0)
    reset_cart_pos: tuple[float, float] = (-1.0, 1.0)
    reset_cart_vel: tuple[float, float] = (-0.5, 0.5)
    reset_pole_pos: tuple[float, float] = (-0.25 * math.pi, 0.25 * math.pi)
    reset_pole_vel: tuple[float, float] = (-0.25 * math.pi, 0.25 * math.pi)

    @property
    def step_dt(self) -> float:
        """Seconds per env step (physics dt × decimation)."""
        return self.sim_dt * self.decimation

    @property
    def max_episode_length(self) -> int:
        """Env steps per episode, as Isaac Lab rounds it."""
        return math.ceil(self.episode_length_s / self.step_dt)
