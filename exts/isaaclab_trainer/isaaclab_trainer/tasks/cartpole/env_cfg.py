"""Configuration of the cartpole tasks: plain data, loaded from ``config/tasks/<task>.yaml``.

The numbers are Isaac Lab 2.3's (see the YAML files); the semantics that differ between the
manager-based and the direct task (observation order, reward scaling, terminations) live in
the env classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from isaaclab_trainer.envs.env_cfg import TaskEnvCfg


@dataclass
class CartpoleEnvCfg(TaskEnvCfg):
    """Action, reward and reset settings of a cartpole task (scene and timing: :class:`TaskEnvCfg`)."""

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

    positive_fields = ("sim_dt", "episode_length_s", "cart_bounds")
    range_fields = ("reset_cart_pos", "reset_cart_vel", "reset_pole_pos", "reset_pole_vel")

    def check(self, source: str = "env config") -> None:
        super().check(source)
        if self.max_pole_angle is not None and self.max_pole_angle <= 0:
            raise self.bad("max_pole_angle", "null or a number > 0", source)
