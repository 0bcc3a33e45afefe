"""Export a trained policy for deployment: ONNX and/or TorchScript files that take raw observations.

``<run>/exported/policy.onnx`` and ``policy.pt`` hold the deterministic actor of an SB3 PPO
checkpoint *with* its VecNormalize observation normalization and SB3's action clipping, so
``actions = file(raw_obs)`` is what ``agent.predict(vec_normalize.normalize_obs(raw_obs),
deterministic=True)`` returns. ``policy.json`` beside them names the observation and action
columns and records the normalization, the clipping, and the scaling the env applies to an action
(not part of the file: the env multiplies by ``action_scale`` and the joint clamps to its effort limit).

The checkpoint is read with the safe loader (:mod:`.checkpoints`): nothing in it is executed. For this package's
tasks no env is built; the agent is loaded against the task's spaces only. A task source's task (Isaac Lab's
``isaaclab:<id>``) knows its spaces and columns only once built: one env of the run's config (its
``params/env.yaml``, whose overrides name the assets it needs) is built, read and closed first.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import logging
import multiprocessing
import os
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.distributions import DiagGaussianDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn

from isaaclab_trainer.tasks import OWN_SOURCE, env_class, load_env_cfg, override_env_cfg, task_source

from .callbacks import _atomic_write
from .checks import Checkpoint, UsageError, check_checkpoint
from .player import load_detached
from .trainer import make_env

#: export formats and their file names under ``<run>/exported/``
FILES = {"onnx": "policy.onnx", "torchscript": "policy.pt"}
#: what ``--format`` accepts; "both" (the default) writes both files, as Isaac Lab's rsl_rl exporter does
FORMAT_CHOICES = ("both", "onnx", "torchscript")
EXPORT_DIR = "exported"
METADATA = "policy.json"
INPUT_NAME, OUTPUT_NAME = "obs", "actions"
#: observations the export compares against SB3 before it reports success
VERIFY_SAMPLES = 256
#: float32 rounding differs between onnxruntime's fused kernels and torch: ~1e-5 is normal (1.5e-5 was
#: seen on a checkpoint stopped from the browser panel); a wrong graph differs by orders of magnitude more
VERIFY_TOLERANCE = 1e-4
#: packages each format needs (module names); onnxruntime is used to verify the ONNX file
NEEDS = {"onnx": ("onnx", "onnxscript", "onnxruntime"), "torchscript": ()}
INSTALL_HINT = "'./isaaclab.sh -p -m pip install \"exts/isaaclab_trainer[export]\"'"


def formats_of(choice: str) -> tuple[str, ...]:
    """``"both"`` -> ``("onnx", "torchscript")``; a single format -> itself; else UsageError."""
    if choice == "both":
        return tuple(FILES)
    if choice in FILES:
        return (choice,)
    raise UsageError(f"export format '{choice}' is not accepted (use {', '.join(FORMAT_CHOICES)})")


def check_export_deps(formats: tuple[str, ...]) -> None:
    """UsageError naming the missing packages when a format cannot be written here."""
    missing = [m for f in formats for m in NEEDS[f] if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"ONNX export needs {', '.join(missing)}; install them with {INSTALL_HINT}")


class DeployablePolicy(nn.Module):
    """Raw observations -> the action of ``predict(normalize_obs(obs), deterministic=True)``.

    Normalization runs in float64 as VecNormalize does (float32 observations minus float64
    statistics), then casts to float32; the actor's mean action is then clipped to the action
    space's bounds (or unsquashed when the policy squashes), as SB3's ``predict`` does.
    """

    def __init__(self, policy: ActorCriticPolicy, stats: VecNormalize | None, low: np.ndarray, high: np.ndarray):
        super().__init__()
        if not isinstance(policy.action_dist, DiagGaussianDistribution):
            raise UsageError(
                f"only Gaussian (Box action) policies can be exported, got {type(policy.action_dist).__name__}"
            )
        self.policy = copy.deepcopy(policy).cpu().eval()
        self.normalize = stats is not None and bool(stats.norm_obs)
        mean, std, self.clip_obs = np.zeros(0), np.ones(0), 0.0
        if stats is not None and self.normalize:
            mean = np.asarray(stats.obs_rms.mean, dtype=np.float64)
            std = np.sqrt(np.asarray(stats.obs_rms.var, dtype=np.float64) + stats.epsilon)
            self.clip_obs = float(stats.clip_obs)
        self.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float64))
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float64))
        self.squash = bool(policy.squash_output)
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))
        self.eval()

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            x = torch.clamp((obs.to(torch.float64) - self.obs_mean) / self.obs_std, -self.clip_obs, self.clip_obs)
            obs = x.to(torch.float32)
        features = self.policy.extract_features(obs, self.policy.pi_features_extractor)
        mean_action = self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))
        if self.squash:  # SB3's unscale_action: [-1, 1] -> [low, high]
            return self.low + 0.5 * (mean_action + 1.0) * (self.high - self.low)
        return torch.clamp(mean_action, self.low, self.high)


@dataclass
class ExportResult:
    """What an export wrote, and how closely each file reproduced SB3 on sample observations."""

    out_dir: Path
    files: dict[str, Path]
    metadata: Path
    max_abs_diff: dict[str, float] = field(default_factory=dict)


@dataclass
class PolicyInterface:
    """What the exported files' metadata says of a task: ``columns`` names the observation and action columns
    (``observation_dim`` / ``_names`` / ``_units``, ``action_dim`` / ``_names``, ``action_metadata(env_cfg)``):
    this package's env class, or a built env of a task source; ``env`` lends its spaces when built."""

    columns: Any
    env_cfg: Any
    control: dict[str, Any]
    env: gym.Env | None = None


@contextlib.contextmanager
def policy_interface(task: str, checkpoint: Path) -> Iterator[PolicyInterface]:
    """The :class:`PolicyInterface` of ``checkpoint``'s run (its ``params/env.yaml`` when there is one); a task
    source's task is built with one env of the run's config and closed on leaving."""
    params = checkpoint.parent / "params" / "env.yaml"
    if task_source(task) == OWN_SOURCE:
        env_cfg = load_env_cfg(task, params if params.is_file() else None)
        control = {"step_dt": env_cfg.step_dt, "sim_dt": env_cfg.sim_dt, "decimation": env_cfg.decimation}
        yield PolicyInterface(env_class(task), env_cfg, control)
        return
    if not params.is_file():
        raise UsageError(
            f"{task}: export builds the run's env from its params/env.yaml (its overrides name the assets), and "
            f"'{params}' does not exist; export a checkpoint inside its run folder"
        )
    env_cfg = override_env_cfg(load_env_cfg(task, params), str(params), num_envs=1)
    env = make_env(task, env_cfg)
    try:
        yield PolicyInterface(env, env_cfg, env.control(), env)
    finally:
        env.close()


def load_for_export(
    checkpoint: str | os.PathLike | Checkpoint, task: str, env: gym.Env | None = None
) -> tuple[PPO, VecNormalize | None]:
    """The agent of ``checkpoint`` (safe loader, against ``task``'s spaces, ``env``'s when given) and its
    statistics, if any."""
    checked = checkpoint if isinstance(checkpoint, Checkpoint) else check_checkpoint(checkpoint, task)
    policy = load_detached(checked, task, env)
    return policy.agent, policy.stats


def sb3_actions(agent: PPO, stats: VecNormalize | None, obs: np.ndarray) -> np.ndarray:
    """What play.py's policy does with raw ``obs``: VecNormalize (frozen), then deterministic predict."""
    if stats is not None:
        obs = stats.normalize_obs(obs)
    with torch.inference_mode():
        actions, _ = agent.predict(obs, deterministic=True)
    return np.asarray(actions, dtype=np.float32)


def sample_observations(stats: VecNormalize | None, dim: int, n: int = VERIFY_SAMPLES, seed: int = 0) -> np.ndarray:
    """Observations around the training distribution (its statistics when known), a few far outside it."""
    rng = np.random.default_rng(seed)
    mean = stats.obs_rms.mean if stats is not None else np.zeros(dim)
    std = np.sqrt(stats.obs_rms.var) if stats is not None else np.ones(dim)
    obs = mean + 2.0 * std * rng.standard_normal((n, dim))
    obs[: n // 16] *= 1e3  # past clip_obs and the action bounds: the clipping must match too
    return obs.astype(np.float32)


def _onnx_runner(path: Path):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda obs: session.run([OUTPUT_NAME], {INPUT_NAME: obs})[0]


def _torchscript_runner(path: Path):
    with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; libtorch still loads it
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    return lambda obs: module(torch.from_numpy(obs)).detach().numpy()


RUNNERS = {"onnx": _onnx_runner, "torchscript": _torchscript_runner}


def exported_runner(path: str | os.PathLike):
    """``obs (N, dim) float32 -> actions (N, act_dim)`` from an exported file (by its suffix)."""
    path = Path(path)
    fmt = next((f for f, name in FILES.items() if Path(name).suffix == path.suffix), None)
    if fmt is None:
        raise UsageError(f"'{path}' is not an exported policy (accepted: {', '.join(FILES.values())})")
    return RUNNERS[fmt](path)


def _write_onnx(module: DeployablePolicy, example: torch.Tensor, tmp: str) -> None:
    batch = torch.export.Dim("batch", min=1)
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)  # not "torchvision is not installed" lines for every export
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            program = torch.onnx.export(
                module,
                (example,),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes={"obs": {0: batch}},
                dynamo=True,
                verbose=False,
            )
    finally:
        onnx_log.setLevel(level)
    program.save(tmp)


def _write_torchscript(module: DeployablePolicy, example: torch.Tensor, tmp: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.trace(module, example).save(tmp)


WRITERS = {"onnx": _write_onnx, "torchscript": _write_torchscript}


def metadata(
    task: str,
    checkpoint: Path,
    agent: PPO,
    module: DeployablePolicy,
    files: dict[str, Path],
    interface: PolicyInterface,
) -> dict:
    """The JSON that says what goes in and out of the exported files, and what the env does with the action."""
    cls = interface.columns
    units = list(cls.observation_units)
    norm: dict[str, Any] = {"included": module.normalize}
    if module.normalize:
        norm.update(
            formula="clip((obs - mean) / std, -clip, clip), std = sqrt(var + epsilon), in float64",
            mean=module.obs_mean.tolist(),
            std=module.obs_std.tolist(),
            clip=module.clip_obs,
        )
    return {
        "task": task,
        "checkpoint": str(checkpoint),
        "num_timesteps": int(agent.num_timesteps),
        "files": {fmt: path.name for fmt, path in files.items()},
        "input": {
            "name": INPUT_NAME,
            "shape": ["batch", cls.observation_dim],
            "dtype": "float32",
            "columns": list(cls.observation_names),
            **({"units": units} if units else {}),
            "raw": "the env's policy observation, not normalized: the file normalizes it",
        },
        "output": {
            "name": OUTPUT_NAME,
            "shape": ["batch", cls.action_dim],
            "dtype": "float32",
            "columns": list(cls.action_names),
        },
        "observation_normalization": norm,
        "action_clipping": {
            "included": not module.squash,
            "low": module.low.tolist(),
            "high": module.high.tolist(),
        },
        "action_scaling": cls.action_metadata(interface.env_cfg),
        "control": interface.control,
        "policy": "deterministic (the Gaussian's mean), as play.py runs it",
    }


def export_policy(
    checkpoint: str | os.PathLike | Checkpoint,
    task: str,
    formats: tuple[str, ...] = tuple(FILES),
    out_dir: Path | None = None,
) -> ExportResult:
    """Write ``formats`` of ``checkpoint``'s policy and ``policy.json`` to ``<run>/exported/`` (or ``out_dir``).

    Each file is checked against SB3 on :data:`VERIFY_SAMPLES` observations before it is moved into
    place; a difference above :data:`VERIFY_TOLERANCE` (relative to actions beyond 1) raises
    ``RuntimeError`` and leaves that file unwritten.
    Bad input raises :class:`~.checks.UsageError`.
    """
    check_export_deps(formats)
    path = checkpoint.path if isinstance(checkpoint, Checkpoint) else Path(checkpoint)
    with policy_interface(task, path) as interface:
        agent, stats = load_for_export(checkpoint, task, interface.env)
    space = agent.action_space
    low, high = np.asarray(space.low, np.float32), np.asarray(space.high, np.float32)  # type: ignore[attr-defined]
    module = DeployablePolicy(agent.policy, stats, low, high)
    dim = int(interface.columns.observation_dim)
    example = torch.zeros(2, dim, dtype=torch.float32)
    obs = sample_observations(stats, dim)
    expected = sb3_actions(agent, stats, obs)

    out_dir = Path(out_dir) if out_dir is not None else path.parent / EXPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ExportResult(out_dir=out_dir, files={}, metadata=out_dir / METADATA)

    def write_checked(fmt: str):
        def write(tmp: str) -> None:
            WRITERS[fmt](module, example, tmp)
            os.chmod(tmp, 0o644)  # a file to deploy, not a private temporary
            got = RUNNERS[fmt](Path(tmp))(obs)
            # float32 rounding grows with the action's size (the far samples saturate at the bounds)
            error = np.abs(got - expected) / np.maximum(1.0, np.abs(expected))
            if not float(np.max(error)) <= VERIFY_TOLERANCE:
                raise RuntimeError(
                    f"the exported {fmt} policy differs from SB3's by {float(np.max(error)):.3g}; nothing written"
                )
            result.max_abs_diff[fmt] = float(np.max(np.abs(got - expected)))

        return write

    with torch.inference_mode(False):
        for fmt in formats:
            target = out_dir / FILES[fmt]
            _atomic_write(target, write_checked(fmt))
            result.files[fmt] = target
    meta = metadata(task, path, agent, module, result.files, interface)
    meta["verified"] = {"samples": len(obs), "max_abs_diff_vs_sb3": result.max_abs_diff}

    def write_json(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(meta, indent=2) + "\n")
        os.chmod(tmp, 0o644)

    _atomic_write(result.metadata, write_json)
    return result


def export_policy_in_own_process(
    checkpoint: str | os.PathLike,
    task: str,
    formats: tuple[str, ...] = tuple(FILES),
    out_dir: Path | None = None,
) -> ExportResult:
    """:func:`export_policy` in a new Python process (spawned), for a caller whose other threads run torch modules.

    torch.onnx's exporter traces with torch.fx, which replaces ``torch.nn.Module.__call__`` for the whole
    process while it traces: a policy another thread runs meanwhile (the panel's loop, training or playing)
    goes through the tracer's wrapper and fails ("Unexpected key mlp_extractor.policy_net@3"). In a process
    of its own the trace touches nothing else; it reads the checkpoint file and writes the exported files,
    so the loop is never held off. Errors come back as raised (bad input stays a ``UsageError``).
    """
    context = multiprocessing.get_context("spawn")
    interpreter = python_interpreter()
    if interpreter != sys.executable:
        context.set_executable(interpreter)
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(export_policy, str(checkpoint), task, formats, out_dir).result()


def python_interpreter() -> str:
    """The Python a spawned process runs: this process's, or, where this process is an app that embeds Python
    (Kit's ``kit`` binary), the interpreter of its Python home, ``<sys.prefix>/bin/python3`` (Isaac Sim's
    ``kit/python/bin/python3``, the one its ``python.sh`` runs). The embedded case is a stand-in: checked against
    Isaac Sim's layout, not run inside its app here."""
    if Path(sys.executable).name.startswith("python"):
        return sys.executable
    bundled = Path(sys.prefix) / "bin" / "python3"
    return str(bundled) if bundled.is_file() else sys.executable
