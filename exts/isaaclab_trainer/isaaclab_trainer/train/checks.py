"""Every input rule, once: task, counts, seed, device, backend, log folder, video packages, checkpoint.

The entry points call these before anything heavy is built: the scripts (exit status 2 with one
line), ``TrainingSession.__init__`` and ``load_checkpoint`` (``ValueError``), and the panel's field
parsing. Code below the entry points trusts what they checked. Every error names the value and what
is accepted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from isaaclab_trainer.sim.backends import registry
from isaaclab_trainer.tasks import check_task as _registered_task
from isaaclab_trainer.utils import SEED_MAX, is_seed, printable

#: Host memory one env costs when no task is named: the cartpole's (each task's spec holds its own,
#: ``isaaclab_trainer.tasks.bytes_per_env``)
BYTES_PER_ENV = 64 * 1024
#: Memory the process needs whatever the env count (Python, torch, SB3, Newton/Warp, USD): ~0.5 GiB measured.
FIXED_BYTES = 768 * 1024**2
#: seeds numpy (and so SB3's set_random_seed) accepts
MAX_SEED = SEED_MAX
#: a run's seed -1 means "draw one", as Isaac Lab's ``--seed -1``; drawn from 0 to 10,000, as Isaac Lab draws it
RANDOM_SEED, DRAWN_SEED_MAX = -1, 10_000
#: what ``--video`` needs beyond the headless install
VIDEO_PACKAGES = ("moviepy", "imageio_ffmpeg")

__all__ = [
    "Checkpoint",
    "UsageError",
    "check_backend",
    "check_backend_name",
    "check_checkpoint",
    "check_checkpoint_task",
    "check_count",
    "check_device",
    "check_log_root",
    "check_num_envs",
    "check_seed",
    "check_task",
    "check_video_packages",
    "resolve_seed",
    "run_seed",
]


class UsageError(ValueError):
    """Bad input: reported as one line on stderr with exit status 2 (a ValueError for the session)."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(str(message)))  # a value typed with a line break stays on the line


def check_count(value: object, name: str) -> int:
    """``value`` if it is an integer >= 1 (a count of envs, timesteps, ...), else UsageError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def check_seed(seed: object, name: str = "seed", random_ok: bool = True) -> int:
    """``seed`` if it is an integer numpy accepts (0 to 2**32 - 1) or, for a run's seed (``random_ok``),
    -1 (:data:`RANDOM_SEED`: draw one); else UsageError naming it."""
    if not is_seed(seed, random_ok=random_ok):
        accepted = f"an integer from 0 to {MAX_SEED}"
        raise UsageError(f"{name} must be {'-1 (random) or ' if random_ok else ''}{accepted}, got {seed!r}")
    return seed  # type: ignore[return-value]


@overload
def run_seed(seed: int | None, agent_cfg: Mapping[str, Any], default: int) -> int: ...
@overload
def run_seed(seed: int | None, agent_cfg: Mapping[str, Any], default: None = None) -> int | None: ...
def run_seed(seed: int | None, agent_cfg: Mapping[str, Any], default: int | None = None) -> int | None:
    """The seed a run asks for, by Isaac Lab's rule (its sb3 train.py sets ``agent_cfg["seed"]`` from
    ``--seed`` when given, then ``env_cfg.seed = agent_cfg["seed"]``): ``seed`` (``--seed``) when given, else
    the agent config's ``seed``, else ``default`` (the task config's). -1 is drawn later (:func:`resolve_seed`)."""
    if seed is not None:
        return seed
    agent_seed = agent_cfg.get("seed")
    return default if agent_seed is None else agent_seed


def resolve_seed(seed: int) -> int:
    """A run's seed: ``seed`` itself, or for -1 one drawn from 0 to 10,000 (Isaac Lab's ``--seed -1``).

    The caller records the result in the run's ``params/`` and prints it, so a drawn run can be repeated.
    """
    return random.randint(0, DRAWN_SEED_MAX) if seed == RANDOM_SEED else seed


def cuda_device_count() -> int:
    """CUDA devices torch can use on this machine (0 without CUDA, or with a CPU-only torch build)."""
    import torch

    try:
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken driver means no usable device
        return 0


def available_devices(count: int) -> str:
    """``"cpu"`` or ``"cpu, cuda:0..cuda:K"``: what ``--device`` accepts here, for messages."""
    if count <= 0:
        return "cpu"
    return "cpu, cuda:0" if count == 1 else f"cpu, cuda:0..cuda:{count - 1}"


def check_device(device: str, name: str = "device") -> str:
    """``device`` if it names a torch device (``cpu``, ``cuda``, ``cuda:N``) this machine has, else UsageError."""
    match = re.fullmatch(r"cpu|cuda(?::(\d+))?", str(device))
    if not match:
        raise UsageError(f"{name} '{device}' is not accepted (use cpu, cuda or cuda:N)")
    if device != "cpu":
        count = cuda_device_count()
        if int(match.group(1) or 0) >= count:
            have = "no CUDA device" if count == 0 else f"{count} CUDA device{'s' if count > 1 else ''}"
            raise UsageError(
                f"{name} '{device}' is not available here: torch sees {have} (available: {available_devices(count)})"
            )
    return device


def check_task(task: str) -> str:
    """``task`` if it is a registered gym id, else UsageError naming the closest ids."""
    try:
        return _registered_task(task)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_backend_name(name: str) -> str:
    """``name`` if the backend registry knows it (buildable here or only in Isaac Sim), else UsageError."""
    try:
        return registry.check_backend_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_backend(name: str) -> str:
    """The registered backend ``name`` resolves to (``auto`` included), else UsageError saying why."""
    try:
        return registry.resolve_backend(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_video_packages() -> None:
    """UsageError naming the packages ``--video`` needs when one is not installed."""
    missing = [m for m in VIDEO_PACKAGES if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"--video needs {', '.join(missing)}; install them with "
            "'./isaaclab.sh -p -m pip install \"exts/isaaclab_trainer[video]\"'"
        )


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


def max_num_envs(device: str | None = None, bytes_per_env: int = BYTES_PER_ENV) -> int:
    """The most envs whose conservative memory estimate (``bytes_per_env`` each) fits in what is available now."""
    budget = available_memory()
    gpu = _device_memory(device)
    if gpu is not None:
        budget = min(budget, gpu)
    return max(0, (budget - FIXED_BYTES) // bytes_per_env)


def check_num_envs(
    num_envs: object, device: str | None = None, name: str = "num_envs", bytes_per_env: int = BYTES_PER_ENV
) -> int:
    """``num_envs`` if it is an integer >= 1 that fits in memory (the only cap; a task's ``bytes_per_env``
    each), else UsageError naming it."""
    num_envs = check_count(num_envs, name)
    limit = max_num_envs(device, bytes_per_env)
    if num_envs > limit:
        need = (FIXED_BYTES + num_envs * bytes_per_env) / 1024**3
        have = (limit * bytes_per_env + FIXED_BYTES) / 1024**3
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
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"log folder must be a path (str or os.PathLike), got {path!r}")
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

Shapes = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Checkpoint:
    """An SB3 model zip that passed :func:`check_checkpoint`; loaders take this, so a load checks once."""

    path: Path
    #: the zip's ``data`` entry (SB3's JSON), read during the check
    data: dict[str, Any]

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    @property
    def shapes(self) -> Shapes | None:
        """Observation and action shapes recorded (as plain JSON) in the model, None if absent."""
        try:
            obs, act = self.data["observation_space"], self.data["action_space"]
            return tuple(int(n) for n in obs["_shape"]), tuple(int(n) for n in act["_shape"])
        except (KeyError, TypeError, ValueError):
            return None


def _task_shapes(task: str) -> Shapes | None:
    """Per-env observation and action shapes of ``task`` from its env class, without building it."""
    from isaaclab_trainer.tasks import env_class

    env_cls = env_class(task)
    obs, act = getattr(env_cls, "observation_dim", 0), getattr(env_cls, "action_dim", 0)
    return ((obs,), (act,)) if obs and act else None


def check_checkpoint(path: str | os.PathLike, task: str | None = None) -> Checkpoint:
    """An existing, complete SB3 model zip (of ``task``'s shapes when given), or UsageError naming what is wrong.

    Reads only the zip's directory, its CRCs and the ``data`` JSON: nothing is unpickled.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"checkpoint must be a path (str or os.PathLike), got {path!r}")
    if not str(path).strip():
        raise UsageError(f"checkpoint path '{path}' is empty (accepted: the path of an SB3 model .zip)")
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
            raw = archive.read("data") if "data" in names else None
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
        data = json.loads(raw or b"")
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        raise UsageError(f"checkpoint '{path}' is a zip but its 'data' entry is not SB3's JSON") from None
    checkpoint = Checkpoint(p, data)
    return checkpoint if task is None else check_checkpoint_task(checkpoint, task)


def check_checkpoint_task(checkpoint: Checkpoint, task: str) -> Checkpoint:
    """``checkpoint`` if its observation/action shapes are ``task``'s, else UsageError naming both."""
    saved, wanted = checkpoint.shapes, _task_shapes(task)
    if saved is not None and wanted is not None and saved != wanted:
        raise UsageError(
            f"checkpoint '{checkpoint}' belongs to another task: it was trained on observations of shape "
            f"{saved[0]} and actions of shape {saved[1]}, but {task} has {wanted[0]} and {wanted[1]}"
        )
    return checkpoint
