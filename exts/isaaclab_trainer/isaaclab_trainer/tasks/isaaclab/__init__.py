"""Isaac Lab 3.0's own registered tasks as a task source: ``isaaclab:<id>`` for every gym id that Isaac Lab's
``isaaclab_tasks`` (or any package built on it) registers with an ``sb3_cfg_entry_point``.

Nothing here imports Isaac Lab until its tasks are asked for (:meth:`IsaacLabSource.specs`); without the
``isaaclab`` package (``./isaaclab.sh -i isaaclab``) the source offers no task and its ids say how to install it.
Configs come from Isaac Lab's own registry loader (:mod:`.configs`), envs are Isaac Lab's own (:mod:`.env`).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util

from isaaclab_trainer.tasks.spec import TaskSpec
from isaaclab_trainer.utils import ConfigError

PREFIX = "isaaclab"
#: the Isaac Lab release these tasks are built against (its registry loader, presets and env API)
SUPPORTED_VERSION = "3.0"
INSTALL = f"./isaaclab.sh -i isaaclab, or pip install 'isaaclab[sb3]=={SUPPORTED_VERSION}.0' (Python 3.12)"
#: the registry kwargs naming a task's env config and its SB3 agent config
ENV_ENTRY_POINT = "env_cfg_entry_point"
SB3_ENTRY_POINT = "sb3_cfg_entry_point"
#: why these tasks' runs keep no ``model_best.zip``: SB3's evaluation envs would be a second Isaac Lab env in the
#: process, and Isaac Lab 3.0 has one ``SimulationContext`` per process (a singleton; a second env's constructor
#: finds it and fails, ``isaaclab/envs/manager_based_env.py:109-119``)
NO_BEST_MODEL = "Isaac Lab builds one simulation per process, so no evaluation envs beside the training ones"
#: host memory one env costs at most, as for this package's cartpole and ant (Isaac Lab's Newton model + buffers)
BYTES_PER_ENV = 256 * 1024


def installed_version() -> str | None:
    """The installed ``isaaclab`` distribution's version, None when it is not installed."""
    if importlib.util.find_spec("isaaclab_tasks") is None:
        return None
    try:
        return importlib.metadata.version("isaaclab")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_installed() -> None:
    """ConfigError (one line) unless Isaac Lab :data:`SUPPORTED_VERSION` is installed."""
    version = installed_version()
    if version is None:
        raise ConfigError(f"the {PREFIX}: tasks need Isaac Lab {SUPPORTED_VERSION}, which is not installed ({INSTALL})")
    if version.split(".")[:2] != SUPPORTED_VERSION.split("."):
        raise ConfigError(
            f"the {PREFIX}: tasks need Isaac Lab {SUPPORTED_VERSION}.x; isaaclab {version} is installed ({INSTALL})"
        )


def isaaclab_registry() -> dict[str, dict]:
    """Every gym id registered with an Isaac Lab env config, and its registry kwargs (imports ``isaaclab_tasks``).

    gymnasium refuses to register Isaac Lab's unversioned ``Isaac-Cartpole-Direct`` beside this package's
    ``Isaac-Cartpole-Direct-v0``, so this package's entries step out of the registry while Isaac Lab registers its
    own, and come back beside them (exact ids resolve as before; ``Isaac-Cartpole`` is then Isaac Lab's).
    """
    import gymnasium as gym

    from isaaclab_trainer.tasks import TASKS

    ours = {task_id: gym.registry.pop(task_id) for task_id in TASKS if task_id in gym.registry}
    try:
        import isaaclab_tasks  # noqa: F401 - registers Isaac Lab's tasks with gymnasium
    finally:
        gym.registry.update(ours)

    return {
        task_id: spec.kwargs
        for task_id, spec in gym.registry.items()
        if isinstance(spec.kwargs, dict) and ENV_ENTRY_POINT in spec.kwargs
    }


class IsaacLabSource:
    """The ``isaaclab:`` task source (see the module docstring)."""

    prefix = PREFIX
    description = (
        f"with Isaac Lab {SUPPORTED_VERSION} installed, its own tasks that have an SB3 config as {PREFIX}:<id>"
    )

    @functools.cache  # noqa: B019 - one source object, one Isaac Lab registry per process
    def specs(self) -> list[TaskSpec]:
        check_installed()
        return [_spec(task_id) for task_id, kwargs in isaaclab_registry().items() if SB3_ENTRY_POINT in kwargs]

    def why_not(self, name: str) -> str | None:
        kwargs = isaaclab_registry().get(name)
        if kwargs is None or SB3_ENTRY_POINT in kwargs:
            return None
        agents = sorted(key.removesuffix("_cfg_entry_point") for key in kwargs if key.endswith("_cfg_entry_point"))
        agents.remove("env")
        return (
            f"Isaac Lab task '{name}' has no SB3 config ({SB3_ENTRY_POINT} is not registered; it has: "
            f"{', '.join(agents) or 'none'}); pick an {PREFIX}: task that has one"
        )

    def override_agent_cfg(self, name: str, agent_cfg: dict, overrides: tuple[str, ...]) -> dict:
        from .configs import override_agent_cfg

        return override_agent_cfg(name, agent_cfg, overrides)


def _spec(task_id: str) -> TaskSpec:
    from . import configs

    return TaskSpec(
        task_id=f"{PREFIX}:{task_id}",
        alias="",
        env="isaaclab_trainer.tasks.isaaclab.env:IsaacLabEnv",
        env_cfg="isaaclab_trainer.tasks.isaaclab.env_cfg:IsaacLabEnvCfg",
        env_cfg_file=None,
        agent_cfg_file=None,
        sweep_file=None,
        bytes_per_env=BYTES_PER_ENV,
        source=f"Isaac Lab {installed_version()}",
        env_cfg_values=functools.partial(configs.default_env_values, task_id),
        agent_cfg_values=functools.partial(configs.agent_values, task_id),
        no_best_model=NO_BEST_MODEL,
    )


SOURCE = IsaacLabSource()
