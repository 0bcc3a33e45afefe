"""The env config of an ``isaaclab:`` task: which Isaac Lab task, our num_envs / seed / device / backend, and the
Isaac Lab-style ``key=value`` overrides applied to Isaac Lab's own config (see :mod:`.configs`)."""

from __future__ import annotations

from dataclasses import dataclass

from isaaclab_trainer.utils import SEED_MAX, ConfigError, is_seed

#: backends an Isaac Lab task runs on here: Isaac Lab's kitless Newton (``physics=newton_mjwarp``)
BACKENDS = ("auto", "newton")


@dataclass
class IsaacLabEnvCfg:
    """What this package sets on an Isaac Lab task; everything else is Isaac Lab's config and its overrides."""

    #: Isaac Lab's gym id (without the ``isaaclab:`` prefix)
    task: str
    num_envs: int
    seed: int
    device: str
    backend: str
    #: Isaac Lab-style overrides, e.g. ``env.scene.robot.spawn.usd_path=/path/robot.usd``, ``physics=newton_mjwarp``
    overrides: tuple[str, ...]

    def check(self, source: str = "env config") -> None:
        """ConfigError naming the key whose value no run can use (overrides: see :func:`.configs.check_overrides`)."""
        if self.num_envs < 1:
            raise ConfigError(f"{source}: 'num_envs' must be an integer >= 1, got {self.num_envs!r}")
        if not is_seed(self.seed, random_ok=True):
            raise ConfigError(
                f"{source}: 'seed' must be -1 (random) or an integer from 0 to {SEED_MAX}, got {self.seed!r}"
            )
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"{source}: Isaac Lab tasks run here on Isaac Lab's kitless Newton; 'backend' must be one of "
                f"{', '.join(BACKENDS)}, got {self.backend!r}"
            )
        from .configs import check_overrides

        try:
            check_overrides(self.task, self.overrides)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
