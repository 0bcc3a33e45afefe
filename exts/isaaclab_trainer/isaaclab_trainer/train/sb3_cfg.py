"""Turn an SB3 agent YAML (Isaac Lab's format) into PPO keyword arguments, without eval.

``"nn.ELU"``-style strings become torch modules, ``lin_<x>`` learning rates and clip ranges
become linear schedules, numbers become constant schedules. Keys that PPO does not take are
rejected with the closest valid name.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import ConstantSchedule, LinearSchedule

from isaaclab_trainer.utils import SEED_MAX, ConfigError, did_you_mean, is_seed

# Isaac Lab's cartpole config keeps batch_size 4096 (tuned for 4096 envs); with fewer envs SB3 then
# uses the whole rollout as one minibatch, which is intended, so its warning about it is noise.
warnings.filterwarnings("ignore", message="You have specified a mini-batch size of", category=UserWarning)

SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
#: keys of ours (not PPO's): run budget, normalization, checkpointing and the best model
OWN_KEYS = {
    "n_timesteps": (int, float),
    "policy": str,
    "n_minibatches": int,
    "normalize_input": bool,
    "normalize_value": bool,
    "clip_obs": (int, float),
    "checkpoint_interval": int,
    "eval_interval": int,
    "eval_episodes": int,
    "stop_at_eval_return": (int, float),
    "cpu_threads": int,
}
#: keys of ours that may be null (off)
NULLABLE_KEYS = {"stop_at_eval_return"}


@dataclass
class AgentSettings:
    """A processed agent config: what PPO takes, and what the run around it needs."""

    policy: str
    n_timesteps: int
    ppo_kwargs: dict[str, Any]
    normalize_input: bool = False
    normalize_value: bool = False
    clip_obs: float = 100.0
    #: timesteps between periodic checkpoints
    checkpoint_interval: int = 64_000
    #: timesteps between evaluations without exploration noise for ``model_best.zip`` (0: keep none)
    eval_interval: int = 64_000
    #: envs of those evaluations, one episode each
    eval_episodes: int = 16
    #: end training at the first evaluation whose mean return reaches this (None: train the whole budget)
    stop_at_eval_return: float | None = None
    #: torch intra-op threads when the agent runs on the CPU (0: leave torch's default)
    cpu_threads: int = 1

    def rollout_size(self, num_envs: int) -> int:
        return int(self.ppo_kwargs.get("n_steps", 2048)) * num_envs

    def limit_torch_threads(self, agent: PPO) -> None:
        """Give torch :attr:`cpu_threads` intra-op threads when ``agent`` runs on the CPU: SB3's small MLPs
        run fastest on one thread, which leaves the other core to the env (and, playing, to a trainer beside)."""
        if agent.device.type == "cpu" and self.cpu_threads > 0:
            torch.set_num_threads(self.cpu_threads)


#: accepted value types of PPO's plain keyword arguments (schedules are checked by _schedule)
_NUMBER, _INT, _BOOL, _STR, _MAP, _NULL = "a number", "an integer", "true or false", "a string", "a mapping", "null"
PPO_TYPES: dict[str, tuple[str, ...]] = {
    "gamma": (_NUMBER,),
    "gae_lambda": (_NUMBER,),
    "ent_coef": (_NUMBER,),
    "vf_coef": (_NUMBER,),
    "max_grad_norm": (_NUMBER,),
    "target_kl": (_NUMBER, _NULL),
    "normalize_advantage": (_BOOL,),
    "use_sde": (_BOOL,),
    "sde_sample_freq": (_INT,),
    "stats_window_size": (_INT,),
    "verbose": (_INT,),
    "seed": (_INT, _NULL),
    "device": (_STR,),
    "policy_kwargs": (_MAP, _NULL),
    "rollout_buffer_kwargs": (_MAP, _NULL),
    "tensorboard_log": (_STR, _NULL),
}
_IS = {
    _NUMBER: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    _INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    _BOOL: lambda v: isinstance(v, bool),
    _STR: lambda v: isinstance(v, str),
    _MAP: lambda v: isinstance(v, dict),
    _NULL: lambda v: v is None,
}


def _check_ppo_types(cfg: dict[str, Any], source: str) -> None:
    """Wrong value types (and policy_kwargs keys the policy does not take) fail here, not inside PPO."""
    for key, kinds in PPO_TYPES.items():
        if key in cfg and not any(_IS[k](cfg[key]) for k in kinds):
            raise ConfigError(f"{source}: '{key}' must be {' or '.join(kinds)}, got {cfg[key]!r}")
    if cfg.get("seed") is not None and not is_seed(cfg["seed"], random_ok=True):
        raise ConfigError(
            f"{source}: 'seed' must be -1 (random), an integer from 0 to {SEED_MAX} or null, got {cfg['seed']!r}"
        )
    if "rollout_buffer_class" in cfg:
        raise ConfigError(f"{source}: 'rollout_buffer_class' cannot be set in a config file")
    policy_kwargs = cfg.get("policy_kwargs") or {}
    accepted = set(inspect.signature(ActorCriticPolicy.__init__).parameters) - {
        "self",
        "observation_space",
        "action_space",
        "lr_schedule",
    }
    for key in policy_kwargs:
        if key not in accepted:
            raise ConfigError(f"{source}: unknown key 'policy_kwargs.{key}'{did_you_mean(key, accepted)}")


#: torch intra-op threads at most: libgomp aborts the process when asked for billions
MAX_CPU_THREADS = 1024
#: bytes one rollout sample takes in SB3's RolloutBuffer, conservatively: float32 observation and action plus six
#: float32 scalars (reward, return, episode start, value, log-prob, advantage); the Humanoid's 87 + 21 + 6 make 456,
#: so 1 KiB leaves room for Isaac Lab tasks' wider observations
ROLLOUT_BYTES_PER_SAMPLE = 1024


def _check_sizes(cfg: dict[str, Any], num_envs: int, source: str, bytes_per_env: int | None) -> None:
    """Sizes of the right type that would abort or exhaust the machine (found by fuzzing); an evaluation env
    takes ``bytes_per_env`` (the task's, default: the generic estimate of ``checks.max_num_envs``)."""
    threads = cfg.get("cpu_threads", 1)
    if not 0 <= threads <= MAX_CPU_THREADS:
        accepted = f"an integer from 0 to {MAX_CPU_THREADS} (0: torch's default)"
        raise ConfigError(f"{source}: 'cpu_threads' must be {accepted}, got {threads!r}")
    from isaaclab_trainer.train.checks import available_memory, max_num_envs

    per_env = {} if bytes_per_env is None else {"bytes_per_env": bytes_per_env}
    eval_episodes, envs_limit = cfg.get("eval_episodes", AgentSettings.eval_episodes), max_num_envs(**per_env)
    if cfg.get("eval_interval", AgentSettings.eval_interval) > 0 and eval_episodes > envs_limit:
        raise ConfigError(
            f"{source}: 'eval_episodes' {eval_episodes} (one env each) does not fit in memory "
            f"(accepted: 1 to {envs_limit:,} here)"
        )

    n_steps = cfg.get("n_steps", inspect.signature(PPO.__init__).parameters["n_steps"].default)
    limit = max(1, available_memory() // (ROLLOUT_BYTES_PER_SAMPLE * max(1, num_envs)))
    if n_steps > limit:
        raise ConfigError(
            f"{source}: 'n_steps' {n_steps} x {num_envs} envs does not fit in memory (accepted: 1 to {limit:,} here)"
        )


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _ppo_keys() -> set[str]:
    return set(inspect.signature(PPO.__init__).parameters) - {"self", "env", "policy"}


def _convert_modules(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _convert_modules(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_convert_modules(v, where) for v in value]
    if isinstance(value, str) and value.startswith("nn."):
        module = getattr(nn, value[3:], None)
        if not (isinstance(module, type) and issubclass(module, nn.Module)):
            raise ConfigError(f"{where}: '{value}' is not a torch.nn module")
        return module
    return value


def _schedule(value: Any, key: str) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            start = float(value[4:])
        except ValueError:
            start = math.nan
        if not 0 <= start < math.inf:
            raise ConfigError(f"{key}: '{value}' is not of the form lin_<number>, a number >= 0 (e.g. lin_3e-4)")
        return LinearSchedule(start=start, end=0.0, end_fraction=1.0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ConstantSchedule(float(value)) if value >= 0 else None
    raise ConfigError(f"{key} must be a number or 'lin_<number>', got {value!r}")


def process_sb3_cfg(
    cfg: dict[str, Any], num_envs: int, source: str = "agent config", bytes_per_env: int | None = None
) -> AgentSettings:
    """Check and convert ``cfg``; raises :class:`ConfigError` naming the bad key or value. ``bytes_per_env``:
    the task's memory per env (``tasks.bytes_per_env``), which bounds ``eval_episodes``."""
    accepted = _ppo_keys() | set(OWN_KEYS)
    for key in cfg:
        if key not in accepted:
            raise ConfigError(f"{source}: unknown key '{key}'{did_you_mean(key, accepted)}")
    for key, kind in OWN_KEYS.items():
        if cfg.get(key) is None and key in NULLABLE_KEYS:
            continue
        if key in cfg and (not isinstance(cfg[key], kind) or isinstance(cfg[key], bool) is not (kind is bool)):
            accepted = {bool: _BOOL, str: _STR, int: _INT}.get(kind, _NUMBER)
            accepted += " or null" if key in NULLABLE_KEYS else ""
            raise ConfigError(f"{source}: '{key}' must be {accepted}, got {cfg[key]!r}")
    if cfg.get("eval_interval", 0) < 0:
        accepted = "an integer >= 0 (0: keep no best model)"
        raise ConfigError(f"{source}: 'eval_interval' must be {accepted}, got {cfg['eval_interval']!r}")
    stop_at = cfg.get("stop_at_eval_return")
    if stop_at is not None and not -math.inf < stop_at < math.inf:
        accepted = "a finite number (null or absent: train the whole budget)"
        raise ConfigError(f"{source}: 'stop_at_eval_return' must be {accepted}, got {stop_at!r}")
    if stop_at is not None and cfg.get("eval_interval", AgentSettings.eval_interval) == 0:
        raise ConfigError(
            f"{source}: 'stop_at_eval_return' {stop_at!r} needs evaluations, but 'eval_interval' is 0 "
            "(accepted: an eval_interval > 0, or no stop_at_eval_return)"
        )
    for key in ("n_steps", "batch_size", "n_epochs", "n_minibatches", "eval_episodes"):
        if key in cfg and (not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1):
            raise ConfigError(f"{source}: '{key}' must be an integer >= 1, got {cfg[key]!r}")

    _check_ppo_types(cfg, source)
    _check_sizes(cfg, num_envs, source, bytes_per_env)

    kwargs = _convert_modules(dict(cfg), source)
    settings = AgentSettings(
        policy=kwargs.pop("policy", "MlpPolicy"),
        n_timesteps=int(kwargs.pop("n_timesteps", 1_000_000)),
        ppo_kwargs=kwargs,
        normalize_input=kwargs.pop("normalize_input", False),
        normalize_value=kwargs.pop("normalize_value", False),
        clip_obs=float(kwargs.pop("clip_obs", 100.0)),
        checkpoint_interval=int(kwargs.pop("checkpoint_interval", 64_000)),
        eval_interval=int(kwargs.pop("eval_interval", AgentSettings.eval_interval)),
        eval_episodes=int(kwargs.pop("eval_episodes", AgentSettings.eval_episodes)),
        stop_at_eval_return=_optional_float(kwargs.pop("stop_at_eval_return", None)),
        cpu_threads=int(kwargs.pop("cpu_threads", 1)),
    )
    if "n_minibatches" in kwargs:
        n_steps = kwargs.get("n_steps", inspect.signature(PPO.__init__).parameters["n_steps"].default)
        kwargs["batch_size"] = max(1, n_steps * num_envs // kwargs.pop("n_minibatches"))
    for key in SCHEDULE_KEYS:
        if key in kwargs:
            schedule = _schedule(kwargs[key], f"{source}: {key}")
            if schedule is None:
                del kwargs[key]
            else:
                kwargs[key] = schedule
    return settings
