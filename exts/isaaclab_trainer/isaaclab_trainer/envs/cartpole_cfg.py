"""Configuration of the cartpole tasks: plain data, loaded from ``config/tasks/<task>.yaml``, the one
source of every value (this class is the schema: names and types, no defaults).

The numbers are Isaac Lab 2.3's (see the YAML files); the semantics that differ between the
manager-based and the direct task (observation order, reward scaling, terminations) live in
the env classes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from isaaclab_trainer.utils import SEED_MAX, ConfigError, is_seed

#: physics steps per env step at most: beyond this one env step takes minutes on a CPU
MAX_DECIMATION = 1000


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

    def check(self, source: str = "env config") -> None:
        """Reject values of the right type that no run can use (found by fuzzing the task YAML):
        non-finite numbers, a physics step <= 0, a decimation that would never finish, an empty
        reset range; ConfigError names the key."""

        def bad(key: str, accepted: str) -> ConfigError:
            return ConfigError(f"{source}: '{key}' must be {accepted}, got {getattr(self, key)!r}")

        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                raise bad(f.name, "finite")
        if not is_seed(self.seed, random_ok=True):
            raise bad("seed", f"-1 (random) or an integer from 0 to {SEED_MAX}")
        for key in ("sim_dt", "episode_length_s", "cart_bounds"):
            if getattr(self, key) <= 0:
                raise bad(key, "a number > 0")
        if not 1 <= self.decimation <= MAX_DECIMATION:
            raise bad("decimation", f"an integer from 1 to {MAX_DECIMATION}")
        if self.env_spacing < 0:
            raise bad("env_spacing", "a number >= 0")
        if self.max_pole_angle is not None and self.max_pole_angle <= 0:
            raise bad("max_pole_angle", "null or a number > 0")
        for key in ("reset_cart_pos", "reset_cart_vel", "reset_pole_pos", "reset_pole_vel"):
            low, high = getattr(self, key)
            if low > high:
                raise bad(key, "[low, high] with low <= high")

    @property
    def step_dt(self) -> float:
        """Seconds per env step (physics dt × decimation)."""
        return self.sim_dt * self.decimation

    @property
    def max_episode_length(self) -> int:
        """Env steps per episode, as Isaac Lab rounds it."""
        return math.ceil(self.episode_length_s / self.step_dt)
