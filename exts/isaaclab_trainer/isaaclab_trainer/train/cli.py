"""What train.py, play.py and the TrainingSession share: input checks that fail fast, before any
scene is built, with one line naming the bad value and what is accepted (exit status 2 in scripts,
``ValueError`` in the session)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from isaaclab_trainer.sim.backends.factory import BACKENDS, resolve_backend
from isaaclab_trainer.tasks import check_task

if TYPE_CHECKING:
    import gymnasium as gym

#: Host memory one env costs, conservatively. Measured on Newton (CPU, cartpole): building 4096
#: envs (USD stage + Newton model/states + env buffers) takes ~41 KiB/env more than 16 envs; the
#: SB3 rollout buffer adds < 1 KiB/env at n_steps 16. Rounded up by ~1.6x.
BYTES_PER_ENV = 64 * 1024
#: Memory the process needs whatever the env count (Python, torch, SB3, Newton/Warp, USD): ~0.5 GiB measured.
FIXED_BYTES = 768 * 1024**2


class UsageError(ValueError):
    """Bad input: reported as one line on stderr with exit status 2 (a ValueError for the session)."""


def fail(prog: str, message: str) -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def positive_int(text: str) -> int:
    """argparse type for counts such as --num_envs: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer (accepted: an integer >= 1)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1 (accepted: an integer >= 1)")
    return value


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) with exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags train.py and play.py both take, named as in Isaac Lab."""
    parser.add_argument("--task", type=str, default="Isaac-Cartpole-v0", help="gym id of the task")
    parser.add_argument("--num_envs", type=positive_int, default=None, help="number of parallel environments")
    parser.add_argument("--seed", type=int, default=None, help="seed (-1 draws a random one)")
    parser.add_argument("--device", type=str, default=None, help="simulation device: cpu, cuda or cuda:N")
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help="physics: PhysX in Isaac Sim, else Newton")
    parser.add_argument("--headless", action="store_true", help="no GUI (always the case without Isaac Sim)")
    parser.add_argument("--video", action="store_true", help="record mp4 clips rendered on the CPU")
    parser.add_argument("--video_length", type=positive_int, default=200, help="env steps per clip")


def check_common_args(args: argparse.Namespace) -> None:
    """Validate what can be checked before any scene is built; raises UsageError."""
    try:
        check_task(args.task)
        if args.device is not None:
            check_device(args.device, name="--device")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.backend == "physx":
        if importlib.util.find_spec("isaacsim") is None:  # the script launches Isaac Sim itself
            raise UsageError("--backend physx needs Isaac Sim (isaacsim is not importable); use newton or auto")
    else:
        resolve_backend(args.backend)
    if args.num_envs is not None:
        check_num_envs(args.num_envs, args.device, name="--num_envs")
    if args.video:
        missing = [m for m in ("moviepy", "imageio_ffmpeg") if importlib.util.find_spec(m) is None]
        if missing:
            raise UsageError(
                f"--video needs {', '.join(missing)}; install them with "
                "'./isaaclab.sh -p -m pip install \"exts/isaaclab_trainer[video]\"'"
            )


def check_device(device: str, name: str = "device") -> str:
    """``device`` if it names a torch device we run on (``cpu``, ``cuda``, ``cuda:N``), else ValueError."""
    if not re.fullmatch(r"cpu|cuda(:\d+)?", str(device)):
        raise ValueError(f"{name} '{device}' is not accepted (use cpu, cuda or cuda:N)")
    return device


# -- env count -----------------------------------------------------------------------------------


def available_memory() -> int:
    """Bytes of host memory available to a new allocation (``MemAvailable``, else free pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return sys.maxsize  # unknown: do not block


def _device_memory(device: str | None) -> int | None:
    """Free bytes on a CUDA ``device``; None for the CPU or when it cannot be asked."""
    if device is None or not device.startswith("cuda"):
        return None
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    except Exception:  # noqa: BLE001 - an unknown device is reported when the env is built
        return None


def max_num_envs(device: str | None = None) -> int:
    """The most envs whose conservative memory estimate fits in what is available now."""
    budget = available_memory()
    gpu = _device_memory(device)
    if gpu is not None:
        budget = min(budget, gpu)
    return max(0, (budget - FIXED_BYTES) // BYTES_PER_ENV)


def check_num_envs(num_envs: object, device: str | None = None, name: str = "num_envs") -> int:
    """``num_envs`` if it is an integer >= 1 that fits in memory, else UsageError naming it."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise UsageError(f"{name} must be an integer >= 1, got {num_envs!r}")
    limit = max_num_envs(device)
    if num_envs > limit:
        need = (FIXED_BYTES + num_envs * BYTES_PER_ENV) / 1024**3
        have = (limit * BYTES_PER_ENV + FIXED_BYTES) / 1024**3
        where = "GPU" if _device_memory(device) is not None else "host"
        raise UsageError(
            f"{name} {num_envs} needs about {need:,.1f} GiB of {where} memory but about {have:,.1f} GiB is "
            f"available (accepted: 1 to {limit:,} here)"
        )
    return num_envs


# -- log folder ----------------------------------------------------------------------------------


def check_log_root(path: str | os.PathLike) -> Path:
    """``path`` (resolved) if run folders can be created under it, else UsageError naming it.

    Nothing is created: the nearest existing ancestor must be a writable folder (tested by creating
    and removing a temporary file there, which also catches read-only file systems and root).
    """
    path = Path(path).resolve()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"log folder '{path}' cannot be created: '{existing}' is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"log folder '{path}' is not writable ({reason} in '{existing}'); "
            "run from a writable folder or fix its permissions"
        ) from None
    return path


# -- checkpoints ---------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_MODEL_MEMBERS = ("data", "policy.pth")


def check_checkpoint_file(path: str | os.PathLike) -> Path:
    """An existing, complete SB3 model zip, or UsageError naming what is wrong with ``path``.

    Reads only the zip's directory, its CRCs and the ``data`` JSON: nothing is unpickled.
    """
    p = Path(path)
    if not p.exists():
        raise UsageError(f"checkpoint '{path}' does not exist")
    if p.is_dir():
        raise UsageError(f"checkpoint '{path}' is a folder; give the model .zip inside it")
    try:
        with open(p, "rb") as f:
            head = f.read(30)
            first = f.read(int.from_bytes(head[26:28], "little")) if len(head) == 30 else b""
    except OSError as exc:
        raise UsageError(f"checkpoint '{path}' cannot be read ({exc.strerror})") from None
    if not zipfile.is_zipfile(p):
        if head[:4] == _ZIP_MAGIC:
            raise UsageError(f"checkpoint '{path}' is a truncated or damaged zip; use another checkpoint")
        raise UsageError(f"checkpoint '{path}' is not a zip file (accepted: an SB3 model .zip)")
    try:
        with zipfile.ZipFile(p) as archive:
            bad = archive.testzip()
            names = set(archive.namelist())
            data = archive.read("data") if "data" in names else None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise UsageError(f"checkpoint '{path}' is a truncated or damaged zip; use another checkpoint") from None
    if head[:4] == _ZIP_MAGIC and first.decode("utf-8", "replace") not in names:
        # the directory found is not this file's own (e.g. the zip stored inside a truncated model)
        raise UsageError(f"checkpoint '{path}' is a truncated or damaged zip; use another checkpoint")
    if bad is not None:
        raise UsageError(f"checkpoint '{path}' is damaged ('{bad}' fails its CRC check); use another checkpoint")
    missing = [m for m in _MODEL_MEMBERS if m not in names]
    if missing:
        raise UsageError(
            f"checkpoint '{path}' is a zip but not an SB3 model (no {', '.join(repr(m) for m in missing)} inside)"
        )
    try:
        if not isinstance(json.loads(data), dict):
            raise ValueError
    except ValueError:
        raise UsageError(f"checkpoint '{path}' is a zip but its 'data' entry is not SB3's JSON") from None
    return p


def checkpoint_shapes(path: str | os.PathLike) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Observation and action shapes recorded (as plain JSON) in an SB3 model zip, None if absent."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    try:
        obs, act = data["observation_space"], data["action_space"]
        return tuple(int(n) for n in obs["_shape"]), tuple(int(n) for n in act["_shape"])
    except (KeyError, TypeError, ValueError):
        return None


def task_shapes(task: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Per-env observation and action shapes of ``task`` from its env class, without building it."""
    from isaaclab_trainer.tasks import env_class

    env_cls = env_class(task)
    obs, act = getattr(env_cls, "observation_dim", 0), getattr(env_cls, "action_dim", 0)
    return ((obs,), (act,)) if obs and act else None


def shape_mismatch_message(path: str | os.PathLike, task: str, saved, wanted) -> str:
    return (
        f"checkpoint '{path}' belongs to another task: it was trained on observations of shape "
        f"{saved[0]} and actions of shape {saved[1]}, but {task} has {wanted[0]} and {wanted[1]}"
    )


def check_checkpoint_task(path: str | os.PathLike, task: str) -> Path:
    """:func:`check_checkpoint_file`, plus the observation/action shapes must be ``task``'s."""
    p = check_checkpoint_file(path)
    saved, wanted = checkpoint_shapes(p), task_shapes(task)
    if saved is not None and wanted is not None and saved != wanted:
        raise UsageError(shape_mismatch_message(path, task, saved, wanted))
    return p


def resolve_checkpoint(task: str, checkpoint: str | None, use_last_checkpoint: bool) -> Path:
    """``--checkpoint`` checked, else the newest run's ``model.zip`` (or, with ``--use_last_checkpoint``,
    its checkpoint with the most steps); UsageError when there is none."""
    if checkpoint is not None:
        return check_checkpoint_file(checkpoint)
    from isaaclab_trainer.train.runs import latest_checkpoint, task_log_root

    found = latest_checkpoint(task, use_last_checkpoint=use_last_checkpoint)
    if found is None:
        wanted = "a model_<steps>_steps.zip or model.zip" if use_last_checkpoint else "a model.zip"
        raise UsageError(f"no run with {wanted} under {task_log_root(task)}; train first or give --checkpoint")
    return found


def launch_kit_if_needed(args: argparse.Namespace) -> tuple[Any, Any]:
    """Start Isaac Sim for ``--backend physx``: ``(SimulationApp, its USD stage)``, else ``(None, None)``."""
    if args.backend != "physx":
        return None, None
    from isaaclab_trainer.kit.app import launch_app  # Isaac Sim only

    return launch_app(headless=args.headless)


def env_cfg_from_args(args: argparse.Namespace, seed: int | None = None) -> Any:
    """The task's env config with the command line's overrides, its env count checked (UsageError)."""
    from isaaclab_trainer.tasks import env_cfg_path, load_env_cfg

    env_cfg = load_env_cfg(args.task)
    env_cfg.backend = args.backend
    if args.num_envs is not None:
        env_cfg.num_envs = args.num_envs
    if seed is not None:
        env_cfg.seed = seed
    if args.device is not None:
        env_cfg.device = args.device
    name = "--num_envs" if args.num_envs else f"{env_cfg_path(args.task)}: num_envs"
    check_num_envs(env_cfg.num_envs, env_cfg.device, name=name)
    return env_cfg


def record_video(env: gym.Env, folder: Path, trigger: Callable[[int], bool], length: int) -> gym.Env:
    """gymnasium's RecordVideo with Isaac Lab's settings (clips of ``length`` env steps)."""
    from gymnasium.wrappers import RecordVideo

    return RecordVideo(env, video_folder=str(folder), step_trigger=trigger, video_length=length, disable_logger=True)
