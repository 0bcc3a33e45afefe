"""An ``isaaclab:`` task's configs, built by Isaac Lab's own code: its registry loader and Hydra-style overrides
(``isaaclab_tasks.utils.resolve_task_config``), then this package's num_envs / seed / device.

Overrides are Isaac Lab's command-line syntax: ``env.<path>=<value>`` and ``agent.<path>=<value>`` set one value
(``env.scene.robot.spawn.usd_path=/path/robot.usd``, ``env.scene.ground=None``), ``physics=`` / ``renderer=`` /
``presets=`` pick presets. Isaac Lab sets a misspelt key silently, so :func:`check_overrides` checks every key
against the config first (one line naming the closest keys), and every asset path for existence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from isaaclab_trainer.utils import ConfigError, closest_names

from . import ENV_ENTRY_POINT, SB3_ENTRY_POINT
from .env_cfg import IsaacLabEnvCfg

#: Isaac Lab's launcher arguments here: no GUI (its kitless launch ignores the rest)
LAUNCH_ARGS = {"headless": True}
#: Isaac Lab's preset selectors (``physics=newton_mjwarp``)
SELECTORS = ("physics", "renderer", "presets")
#: value suffixes of asset files an override may point at, checked for existence before anything is built
ASSET_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz", ".urdf", ".xml", ".mjcf")


def split_overrides(overrides: Iterable[str], source: str = "overrides") -> tuple[list[str], list[tuple[str, str]]]:
    """``(preset selectors, [(key, value), ...])`` of ``overrides``; ConfigError naming one that is neither."""
    selectors, values = [], []
    for item in overrides:
        key, sep, value = str(item).partition("=")
        if not sep or not key:
            raise ConfigError(f"{source}: override '{item}' is not key=value (e.g. env.scene.num_envs=64)")
        if key in SELECTORS:
            selectors.append(item)
        elif key.startswith(("env.", "agent.")):
            values.append((key, value))
        else:
            raise ConfigError(
                f"{source}: override key '{key}' must start with env. or agent., or be one of {', '.join(SELECTORS)}"
            )
    return selectors, values


def default_env_values(task_id: str) -> dict[str, Any]:
    """The env config values of Isaac Lab's ``task_id`` before any flag: its scene's env count, its SB3 config's
    seed, the CPU (as this package's own tasks), Newton, no overrides."""
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    env_cfg = load_cfg_from_registry(task_id, ENV_ENTRY_POINT)
    seed = agent_values(task_id).get("seed", 42)
    return dict(
        task=task_id, num_envs=int(env_cfg.scene.num_envs), seed=seed, device="cpu", backend="auto", overrides=[]
    )


def agent_values(task_id: str) -> dict[str, Any]:
    """Isaac Lab's SB3 agent config of ``task_id`` (its ``sb3_cfg_entry_point`` YAML), a fresh copy; its
    ``device: cuda:0`` becomes ``auto`` where CUDA is missing, as this package's own agent configs say."""
    import torch
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    cfg = dict(load_cfg_from_registry(task_id, SB3_ENTRY_POINT))
    if str(cfg.get("device", "")).startswith("cuda") and not torch.cuda.is_available():
        cfg["device"] = "auto"
    return cfg


def _resolve(task_id: str, overrides: list[str]) -> tuple[Any, dict[str, Any]]:
    """Isaac Lab's env config and SB3 agent config of ``task_id`` with ``overrides``, by its own loader."""
    from isaaclab_tasks.utils import resolve_task_config

    try:
        return resolve_task_config(task_id, SB3_ENTRY_POINT, overrides=overrides)
    except ValueError as exc:  # Isaac Lab's own check of preset names
        raise ConfigError(f"isaaclab:{task_id}: {str(exc).strip().splitlines()[0]}") from None


def _children(node: Any) -> list[str]:
    if isinstance(node, Mapping):
        return [str(k) for k in node]
    if dataclasses.is_dataclass(node):
        return [f.name for f in dataclasses.fields(node)]
    return [name for name in vars(node) if not name.startswith("_")] if hasattr(node, "__dict__") else []


def _check_path(root: Any, key: str) -> None:
    """ConfigError unless ``key`` (``env.a.b``) names an existing value under ``root``, with the closest keys."""
    node = root
    section, *parts = key.split(".")
    walked = section
    for part in parts:
        names = _children(node)
        if part not in names:
            close = closest_names(part, names)
            hint = f"closest: {', '.join(f'{walked}.{c}' for c in close)}" if close else f"keys: {', '.join(names)}"
            raise ConfigError(f"override key '{key}' does not exist: no '{part}' under {walked} ({hint})")
        node = node[part] if isinstance(node, Mapping) else getattr(node, part)
        walked = f"{walked}.{part}"


def _check_asset(key: str, value: str) -> None:
    """ConfigError when an override points at an asset file (``*_path`` key or asset suffix) that does not exist."""
    text = value.strip("'\"")
    is_asset = key.endswith("_path") or text.lower().endswith(ASSET_SUFFIXES)
    if is_asset and text.lower() not in ("none", "null") and "://" not in text and not Path(text).is_file():
        raise ConfigError(f"override {key}: asset file '{text}' does not exist")


def check_overrides(task_id: str, overrides: Iterable[str]) -> None:
    """Every override of ``task_id`` names an existing key and an existing asset file, and the config they make
    runs kitless here, else one ConfigError line (before any scene is built; loads only Isaac Lab's configs)."""
    from isaaclab.app.sim_launcher import validate_launch

    selectors, values = split_overrides(overrides)
    env_cfg, agent_cfg = _resolve(task_id, selectors)
    for key, value in values:
        _check_path(env_cfg if key.startswith("env.") else agent_cfg, key)
        _check_asset(key, value)
    _, kit_sources = validate_launch(env_cfg, dict(LAUNCH_ARGS))
    if kit_sources:
        raise ConfigError(
            f"isaaclab:{task_id} needs Isaac Sim (Kit) for {', '.join(kit_sources)}; kitless Newton runs here "
            "(try the override physics=newton_mjwarp)"
        )


def override_agent_cfg(task_id: str, agent_cfg: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """``agent_cfg`` with the ``agent.`` overrides applied (keys checked), as Isaac Lab's loader applies them."""
    from isaaclab_tasks.utils.hydra import _parse_val, _setattr

    _, values = split_overrides(overrides)
    agent = [(key, value) for key, value in values if key.startswith("agent.")]
    agent_cfg = dict(agent_cfg)
    for key, value in agent:
        _check_path(agent_cfg, key)
        _setattr(agent_cfg, key.removeprefix("agent."), _parse_val(value))
    return agent_cfg


def build_env_cfg(cfg: IsaacLabEnvCfg) -> Any:
    """Isaac Lab's env config of ``cfg.task``: its registry loader with ``cfg.overrides``, then this package's
    num_envs / seed / device, and the pre-reset observation of finished envs that SB3 bootstraps time-outs from."""
    check_overrides(cfg.task, cfg.overrides)
    selectors, values = split_overrides(cfg.overrides)
    env_cfg, _ = _resolve(cfg.task, [*selectors, *(f"{k}={v}" for k, v in values if k.startswith("env."))])
    env_cfg.scene.num_envs = cfg.num_envs
    env_cfg.sim.device = cfg.device
    env_cfg.seed = cfg.seed
    env_cfg.compute_final_obs = True  # extras["final_obs"]: SB3's terminal_observation
    return env_cfg
