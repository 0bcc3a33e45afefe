"""Run folders and checkpoints, laid out as Isaac Lab's SB3 scripts do.

``logs/sb3/<task>/<YYYY-MM-DD_HH-MM-SS>/`` holds ``params/env.yaml``, ``params/agent.yaml``,
``command.txt``, the TensorBoard folder ``PPO_1/``, periodic ``model_<steps>_steps.zip``
checkpoints (with ``model_vecnormalize_<steps>_steps.pkl`` beside them when observations are
normalized), the final ``model.zip`` (+ ``model_vecnormalize.pkl``) and ``model_best.zip`` (+
``model_vecnormalize_best.pkl``), the policy with the best return measured without exploration noise.

``run_state.json`` records whether the run is going on: ``{"state": "running", "pid": ..., "host": ...}``
while its process trains (written when training starts, by train.py, the panel's session and each
tune.py trial alike), then ``"finished"`` (the budget was reached) or ``"interrupted"`` (Ctrl+C, Stop,
a sweep's early stop, an error). A run whose file still says running but whose process is gone (killed)
reads as interrupted; one written on another host is running while its files keep changing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import socket
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from isaaclab_trainer.tasks import SOURCES
from isaaclab_trainer.utils import load_yaml

#: where run folders go, relative to the working directory, as Isaac Lab's scripts put them
LOG_ROOT = "logs"
FINAL_MODEL = "model.zip"
BEST_MODEL = "model_best.zip"
#: words ``--checkpoint`` and the panel's checkpoint field take instead of a path (Isaac Lab 3.0's play selectors):
#: ``latest`` is the ``--use_last_checkpoint`` pick, ``best`` the newest run's ``model_best.zip``
LATEST, BEST = "latest", "best"
#: selector -> what it looks for, for messages
CHECKPOINT_SELECTORS = {LATEST: "a model_<steps>_steps.zip or model.zip", BEST: f"a {BEST_MODEL}"}
RUN_STATE_FILE = "run_state.json"
RUNNING, FINISHED, INTERRUPTED = "running", "finished", "interrupted"
#: a run recorded as running on another host counts as running while a file changed this recently (s)
REMOTE_FRESH_S = 600.0
_CHECKPOINT_RE = re.compile(r"^model_(\d+)_steps\.zip$")


def task_log_root(task: str, log_root: str | os.PathLike = LOG_ROOT) -> Path:
    """``<log_root>/sb3/<task>`` with any ``-Play`` suffix stripped, as play.py expects, and any gym module prefix
    (``module:<id>``); a task source's prefix stays (``isaaclab:Isaac-Cartpole`` is not this package's task)."""
    prefix, sep, name = task.rpartition(":")
    name = task if sep and prefix in SOURCES else name
    return Path(log_root).resolve() / "sb3" / name.replace("-Play", "")


def new_run_dir(task: str, log_root: str | os.PathLike = LOG_ROOT) -> Path:
    """Claim a fresh timestamped run folder of ``task`` (see :func:`claim_run_dir`)."""
    return claim_run_dir(task_log_root(task, log_root))


#: the folders each claim created above its run folder, removed again by :func:`release_run_dir`
_CREATED_PARENTS: dict[Path, list[Path]] = {}


def claim_run_dir(parent: str | os.PathLike) -> Path:
    """Create and return ``<parent>/<YYYY-MM-DD_HH-MM-SS>``, or ``…_1``, ``…_2`` when taken.

    The name is claimed by ``mkdir``, which fails if the folder exists, so runs started in the same
    second (two terminals, the trials of a sweep) each get their own folder, never a shared one.
    """
    parent = Path(parent)
    missing = [p for p in (parent, *parent.parents) if not p.exists()]
    parent.mkdir(parents=True, exist_ok=True)
    base = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    n = 0
    while True:
        run_dir = parent / (base if n == 0 else f"{base}_{n}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            n += 1
            continue
        _CREATED_PARENTS[run_dir] = missing
        return run_dir


def release_run_dir(run_dir: str | os.PathLike, *, force: bool = False) -> None:
    """Give back a claimed run folder of a run that failed to start: removed if nothing was written
    into it (with ``force``, whatever it holds), then the empty folders its claim created above it."""
    run_dir = Path(run_dir)
    with contextlib.suppress(OSError):
        if force:
            shutil.rmtree(run_dir)
        else:
            run_dir.rmdir()
    for folder in _CREATED_PARENTS.pop(run_dir, []):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _plain(value: Any) -> Any:
    """YAML-safe copy of a config (dataclasses, tuples, classes and schedules as text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def write_run_params(run_dir: Path, env_cfg: Any, agent_cfg: dict[str, Any], argv: list[str] | None = None) -> None:
    """Create ``run_dir`` with ``params/env.yaml``, ``params/agent.yaml`` and ``command.txt``."""
    params = run_dir / "params"
    params.mkdir(parents=True, exist_ok=True)
    (params / "env.yaml").write_text(yaml.safe_dump(_plain(env_cfg), sort_keys=False))
    (params / "agent.yaml").write_text(yaml.safe_dump(_plain(agent_cfg), sort_keys=False))
    argv = sys.argv if argv is None else argv
    (run_dir / "command.txt").write_text(" ".join(shlex.quote(a) for a in argv) + "\n")


def recorded_overrides(run_dir: str | os.PathLike) -> tuple[str, ...]:
    """The ``key=value`` overrides a run of a task source's task was trained with (``params/env.yaml``'s
    ``overrides``); () when the run recorded none."""
    params = Path(run_dir) / "params" / "env.yaml"
    values = load_yaml(params) if params.is_file() else None
    found = values.get("overrides") if isinstance(values, dict) else None
    return tuple(str(item) for item in found) if isinstance(found, list) else ()


def vecnormalize_path(checkpoint: str | os.PathLike) -> Path:
    """Where the VecNormalize statistics of a model checkpoint live."""
    path = Path(checkpoint)
    return path.with_name(path.name.replace("model", "model_vecnormalize", 1)).with_suffix(".pkl")


def checkpoint_steps(path: str | os.PathLike) -> int | None:
    """The step count in a ``model_<steps>_steps.zip`` name, else None."""
    match = _CHECKPOINT_RE.match(Path(path).name)
    return int(match.group(1)) if match else None


def list_runs(task: str, log_root: str | os.PathLike = LOG_ROOT) -> list[Path]:
    """Run folders of ``task``, oldest first.

    Ordered by when each run started: the time of its ``command.txt``, written once at creation (the
    folder's own time, which Isaac Lab uses, moves whenever ``play.py --video`` adds ``videos/``).
    """
    root = task_log_root(task, log_root)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda run: (run_started(run), run.name))


def run_started(run: Path) -> float:
    """When a run started: the time of its ``command.txt`` (else of the folder)."""
    marker = run / "command.txt"
    return (marker if marker.is_file() else run).stat().st_mtime


def newest_checkpoint_in(run_dir: Path) -> Path | None:
    """The periodic checkpoint with the most steps (numeric order), else None."""
    found = [(checkpoint_steps(p), p) for p in run_dir.glob("model_*_steps.zip")]
    found = [(s, p) for s, p in found if s is not None]
    return max(found)[1] if found else None


def latest_checkpoint(
    task: str, log_root: str | os.PathLike = LOG_ROOT, use_last_checkpoint: bool = True
) -> Path | None:
    """The checkpoint play.py picks: in the newest run, the periodic checkpoint with the most steps
    (``use_last_checkpoint``) or the final ``model.zip``. Runs with no such file are skipped."""
    for run_dir in reversed(list_runs(task, log_root)):
        if use_last_checkpoint:
            found = newest_checkpoint_in(run_dir)
            if found is None and (run_dir / FINAL_MODEL).is_file():
                found = run_dir / FINAL_MODEL
        else:
            found = run_dir / FINAL_MODEL if (run_dir / FINAL_MODEL).is_file() else None
        if found is not None:
            return found
    return None


def best_checkpoint(task: str, log_root: str | os.PathLike = LOG_ROOT) -> Path | None:
    """The newest run's ``model_best.zip`` (runs without one are skipped), else None."""
    for run_dir in reversed(list_runs(task, log_root)):
        if (run_dir / BEST_MODEL).is_file():
            return run_dir / BEST_MODEL
    return None


def is_selector(text: str) -> bool:
    """``text`` is a word of :data:`CHECKPOINT_SELECTORS` and not a file of that name (given as ``./best``)."""
    return text in CHECKPOINT_SELECTORS and not Path(text).is_file()


def select_checkpoint(task: str, selector: str, log_root: str | os.PathLike = LOG_ROOT) -> Path | None:
    """What a selector of :data:`CHECKPOINT_SELECTORS` names for ``task`` now, else None."""
    if selector == BEST:
        return best_checkpoint(task, log_root)
    return latest_checkpoint(task, log_root, use_last_checkpoint=True)


# -- run state -----------------------------------------------------------------------------------


def write_run_state(run_dir: str | os.PathLike, state: str, stopped: str | None = None) -> None:
    """Record ``state`` (:data:`RUNNING`, :data:`FINISHED` or :data:`INTERRUPTED`) of this process's run, atomically;
    ``stopped``: the line saying why a finished run ended before its budget."""
    run_dir = Path(run_dir)
    record = {"state": state, "pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
    if stopped is not None:
        record["stopped"] = stopped
    tmp = run_dir / f".{RUN_STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record) + "\n")
    os.replace(tmp, run_dir / RUN_STATE_FILE)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _newest_mtime(run_dir: Path) -> float:
    times = [run_dir.stat().st_mtime]
    for folder in (run_dir, *(p for p in run_dir.iterdir() if p.is_dir())):
        times += [p.stat().st_mtime for p in folder.iterdir() if p.is_file()]
    return max(times)


def run_state(run_dir: str | os.PathLike) -> str:
    """:data:`RUNNING` (its process is alive), :data:`FINISHED` or :data:`INTERRUPTED`, from ``run_state.json``.

    A run without the file (written before it existed) is finished when it has ``model.zip``.
    """
    run_dir = Path(run_dir)
    try:
        record = json.loads((run_dir / RUN_STATE_FILE).read_text())
        state, pid, host = record["state"], int(record["pid"]), str(record["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return FINISHED if (run_dir / FINAL_MODEL).is_file() else INTERRUPTED
    if state != RUNNING:
        return FINISHED if state == FINISHED else INTERRUPTED
    if host == socket.gethostname():
        return RUNNING if _pid_alive(pid) else INTERRUPTED
    try:
        fresh = time.time() - _newest_mtime(run_dir) < REMOTE_FRESH_S
    except OSError:
        fresh = False
    return RUNNING if fresh else INTERRUPTED


def run_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """The model zips of a run (periodic, ``model.zip``, ``model_best.zip``), oldest write first."""
    found = []
    for entry in os.scandir(run_dir):  # FileNotFoundError when the run is gone: the caller says so
        if entry.is_file() and (checkpoint_steps(entry.name) is not None or entry.name in (FINAL_MODEL, BEST_MODEL)):
            found.append((entry.stat().st_mtime_ns, entry.name, Path(entry.path)))
    return [p for _, _, p in sorted(found)]


def is_run_dir(path: str | os.PathLike) -> bool:
    """A folder that a training run wrote (its params, command line or run state)."""
    path = Path(path)
    return path.is_dir() and any((path / name).exists() for name in ("params", "command.txt", RUN_STATE_FILE))
