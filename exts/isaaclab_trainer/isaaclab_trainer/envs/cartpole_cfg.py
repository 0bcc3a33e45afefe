"""Configuration of the cartpole tasks: plain data, loaded from ``config/tasks/<task>.yaml``, the one
source of every value (this class is the schema: names and types, no defaults).

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

    num_envs: int
    seed: int
    device: str
    backend: str
    env_spacing: float
    sim_dt: float
    decimation: int
    episode_length_s: float
    action_scale: float
    # terminations: |cart position| beyond cart_bounds; |pole angle| beyond max_pole_angle if set
    cart_bounds: float
    max_pole_angle: float | None
    # reward weights
    rew_alive: float
    rew_terminated: float
    rew_pole_pos: float
    rew_cart_vel: float
    rew_pole_vel: float
    # reset: uniform offsets from the default joint state (0, 0)
    reset_cart_pos: tuple[float, float]
    reset_cart_vel: tuple[float, float]
    reset_pole_pos: tuple[float, float]
    reset_pole_vel: tuple[float, float]

    @property
    def step_dt(self) -> float:
        """Seconds per env step (physics dt × decimation)."""
        return self.sim_dt * self.decimation

    @property
    def max_episode_length(self) -> int:
        """Env steps per episode, as Isaac Lab rounds it."""
        return math.ceil(self.episode_length_s / self.step_dt)
