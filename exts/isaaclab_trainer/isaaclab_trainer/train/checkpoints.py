"""Loading SB3 checkpoints and VecNormalize statistics without running code from the files.

Trust model: a checkpoint is data, never code.

* An SB3 model zip stores some entries of its ``data`` JSON with cloudpickle; ``PPO.load`` would
  unpickle them, and a crafted file would run its payload. Every such entry (known or not) is
  supplied here through ``custom_objects`` (from a template agent built from our own task and agent
  config, ``None`` for entries we do not know), so SB3 never unpickles any of them. The entries
  that decide what gets constructed (policy class, spaces, schedules, policy kwargs, rollout
  buffer) are always ours, even when the file stores them as plain JSON.
* The ``.pth`` tensors inside the zip are read by SB3 2.9 with ``torch.load(weights_only=True)``,
  which only rebuilds tensors and plain containers.
* ``model_vecnormalize*.pkl`` files are plain pickles; :func:`load_vecnormalize_stats` reads them
  with a restricted unpickler that admits only the classes such a file really contains.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from .checks import Checkpoint, UsageError
from .runs import vecnormalize_path
from .sb3_cfg import AgentSettings

#: data entries always taken from the template agent, serialized in the file or not
_OURS = (
    "policy_class",
    "observation_space",
    "action_space",
    "policy_kwargs",
    "lr_schedule",
    "learning_rate",
    "clip_range",
    "clip_range_vf",
    "rollout_buffer_class",
    "rollout_buffer_kwargs",
    "action_noise",
)


def serialized_keys(data: dict[str, Any]) -> list[str]:
    """The entries of an SB3 ``data`` JSON that SB3 would unpickle."""
    return [k for k, v in data.items() if isinstance(v, dict) and ":serialized:" in v]


def template_agent(env: VecEnv, settings: AgentSettings) -> PPO:
    """An untrained agent of our own config: the source of every object a checkpoint may not supply."""
    return PPO(settings.policy, env, verbose=0, **{**settings.ppo_kwargs, "device": "cpu", "seed": None})


def _custom_objects(data: dict[str, Any], template: PPO) -> dict[str, Any]:
    own = vars(template)
    custom = {key: own.get(key) for key in serialized_keys(data)}
    custom.update({key: own.get(key) for key in _OURS if key in data})
    return custom


def safe_custom_objects(checkpoint: Checkpoint, env: VecEnv, settings: AgentSettings) -> dict[str, Any]:
    """A value for every cloudpickled entry of the checkpoint's data, built from our config (None if unknown)."""
    return _custom_objects(checkpoint.data, template_agent(env, settings))


def _check_weights(path: Path, template: PPO) -> None:
    """The policy weights of ``path`` (weights-only load) must have the template's names and shapes."""
    with zipfile.ZipFile(path) as archive:
        raw = archive.read("policy.pth")
    try:
        saved = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle.UnpicklingError, RuntimeError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"checkpoint '{path}' has policy weights that cannot be loaded safely: {first}") from None
    if not isinstance(saved, dict):
        raise UsageError(f"checkpoint '{path}' has no policy weights dictionary in policy.pth")
    wanted = {k: tuple(v.shape) for k, v in template.policy.state_dict().items()}
    have = {k: tuple(v.shape) for k, v in saved.items() if isinstance(v, torch.Tensor)}
    if have != wanted:
        diff = sorted(set(have) ^ set(wanted)) or [k for k in wanted if have.get(k) != wanted[k]]
        key = diff[0]
        raise UsageError(
            f"checkpoint '{path}' does not fit this task and agent config: policy weight '{key}' is "
            f"{have.get(key, 'missing')} in the file but {wanted.get(key, 'not expected')} here"
        )


def load_agent(checkpoint: Checkpoint, env: VecEnv, settings: AgentSettings, restore_stats: bool = True) -> PPO:
    """Load a checked PPO checkpoint for ``env`` with every pickled entry replaced by our own objects.

    The file itself was validated by :func:`~.checks.check_checkpoint` at the entry point; this
    raises :class:`~.checks.UsageError` (a ``ValueError``) naming it when its network does not fit
    the agent config. When ``env`` is a :class:`VecNormalize` and ``restore_stats``, the
    checkpoint's statistics (if present) are copied into it, so resuming keeps normalizing as before.
    """
    path = checkpoint.path
    template = template_agent(env, settings)
    custom = _custom_objects(checkpoint.data, template)
    _check_weights(path, template)
    device = settings.ppo_kwargs.get("device", "auto")
    try:
        agent = PPO.load(path, env=env, device=device, custom_objects=custom)
    except (AssertionError, KeyError, RuntimeError, TypeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UsageError(f"checkpoint '{path}' could not be loaded: {first}") from None
    if restore_stats and isinstance(env, VecNormalize) and vecnormalize_path(path).is_file():
        stats = load_vecnormalize_stats(vecnormalize_path(path), env.observation_space.shape)
        env.obs_rms, env.ret_rms = stats.obs_rms, stats.ret_rms
    return agent


# -- VecNormalize statistics ---------------------------------------------------------------------

#: (module, name) pairs a VecNormalize statistics pickle of SB3 2.x really references
_ALLOWED_GLOBALS = {
    ("stable_baselines3.common.vec_env.vec_normalize", "VecNormalize"),
    ("stable_baselines3.common.running_mean_std", "RunningMeanStd"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pcg64", "PCG64"),
    ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("gymnasium.spaces.box", "Box"),
    ("gymnasium.spaces.dict", "Dict"),
    ("gymnasium.spaces.discrete", "Discrete"),
    ("collections", "OrderedDict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
}


class _StatsUnpickler(pickle.Unpickler):
    """Resolves only :data:`_ALLOWED_GLOBALS`; anything else (os.system, builtins.eval, ...) is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"it references {module}.{name}, which a statistics file never holds")
        return super().find_class(module, name)


def load_vecnormalize_stats(path: str | os.PathLike, obs_shape: tuple[int, ...] | None = None) -> VecNormalize:
    """The (venv-less) VecNormalize pickled at ``path``, read without running code from it.

    Raises :class:`~.checks.UsageError` when the file is not such a pickle or its observation
    statistics do not have ``obs_shape``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            stats = _StatsUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError) as exc:
        raise UsageError(f"VecNormalize statistics '{path}' were refused: {exc}") from None
    if not isinstance(stats, VecNormalize) or not isinstance(getattr(stats, "obs_rms", None), RunningMeanStd):
        raise UsageError(f"'{path}' is not a VecNormalize statistics file (got {type(stats).__name__})")
    mean = getattr(stats.obs_rms, "mean", None)
    if not isinstance(mean, np.ndarray) or (obs_shape is not None and tuple(mean.shape) != tuple(obs_shape)):
        shape = getattr(mean, "shape", None)
        raise UsageError(
            f"VecNormalize statistics '{path}' are for observations of shape {shape}, not {tuple(obs_shape or ())}"
        )
    return stats


def freeze_stats(stats: VecNormalize, venv: VecEnv) -> VecNormalize:
    """``venv`` normalized with the frozen statistics ``stats`` (for playing a policy)."""
    stats.set_venv(venv)
    stats.training = False
    stats.norm_reward = False
    return stats
