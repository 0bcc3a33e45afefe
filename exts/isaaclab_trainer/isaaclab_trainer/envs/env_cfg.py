"""The settings every task's env config has (scene size, seed, device, backend, timing), and their checks.

A task's config class (``tasks/<task>/env_cfg.py``) extends :class:`TaskEnvCfg` with its own fields;
the values live in ``config/tasks/<task>.yaml``, the one source of every value (these classes are the
schema: names and types, no defaults).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from isaaclab_trainer.utils import SEED_MAX, ConfigError, is_seed

#: physics steps per env step at most: beyond this one env step takes minutes on a CPU
MAX_DECIMATION = 1000


@dataclass
class TaskEnvCfg:
    """Scene and simulation settings common to every task."""

    num_envs: int
    seed: int
    device: str
    backend: str
    env_spacing: float
    sim_dt: float
    decimation: int
    episode_length_s: float

    #: fields whose value must be > 0 (a task adds its own)
    positive_fields: ClassVar[tuple[str, ...]] = ("sim_dt", "episode_length_s")
    #: ``[low, high]`` fields (a task names its own)
    range_fields: ClassVar[tuple[str, ...]] = ()

    def bad(self, key: str, accepted: str, source: str) -> ConfigError:
        """The error naming ``key``, its value and what is accepted."""
        return ConfigError(f"{source}: '{key}' must be {accepted}, got {getattr(self, key)!r}")

    def check(self, source: str = "env config") -> None:
        """Reject values of the right type that no run can use (found by fuzzing the task YAML):
        non-finite numbers, a physics step <= 0, a decimation that would never finish, an empty
        range; ConfigError names the key."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                raise self.bad(f.name, "finite", source)
        if not is_seed(self.seed, random_ok=True):
            raise self.bad("seed", f"-1 (random) or an integer from 0 to {SEED_MAX}", source)
        for key in self.positive_fields:
            if getattr(self, key) <= 0:
                raise self.bad(key, "a number > 0", source)
        if not 1 <= self.decimation <= MAX_DECIMATION:
            raise self.bad("decimation", f"an integer from 1 to {MAX_DECIMATION}", source)
        if self.env_spacing < 0:
            raise self.bad("env_spacing", "a number >= 0", source)
        for key in self.range_fields:
            low, high = getattr(self, key)
            if low > high:
                raise self.bad(key, "[low, high] with low <= high", source)

    @property
    def step_dt(self) -> float:
        """Seconds per env step (physics dt × decimation)."""
        return self.sim_dt * self.decimation

    @property
    def max_episode_length(self) -> int:
        """Env steps per episode, as Isaac Lab rounds it."""
        return math.ceil(self.episode_length_s / self.step_dt)
