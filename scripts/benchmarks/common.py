"""Shared helpers of the benchmark scripts: env/agent construction, timing, result files.

Every comparison is measured side by side in one process (or two subprocesses run back to back)
and reported as a ratio, because absolute times on shared 2-core machines drift.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.callbacks import BaseCallback

from isaaclab_trainer.session.session import FRAME_BUDGET_MS  # noqa: F401 - the session's default, for the comparisons
from isaaclab_trainer.tasks import DEFAULT_TASK

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
TASK = DEFAULT_TASK

# -- construction --------------------------------------------------------------------------------


def env_cfg(num_envs: int, seed: int = 42, task: str = TASK) -> Any:
    from isaaclab_trainer.tasks import load_env_cfg

    cfg = load_env_cfg(task)
    cfg.num_envs, cfg.seed = num_envs, seed
    return cfg


def make_task_env(num_envs: int, seed: int = 42):
    """Isaac-Cartpole-v0 with ``num_envs`` envs, built by the package's own ``make_env``."""
    from isaaclab_trainer.train.trainer import make_env

    return make_env(TASK, env_cfg(num_envs, seed))


def agent_cfg(seed: int = 42, task: str = TASK) -> dict[str, Any]:
    """The task's registered SB3 PPO config (config/agents/sb3_ppo_<task>.yaml)."""
    from isaaclab_trainer.tasks import load_agent_cfg

    cfg = load_agent_cfg(task)
    cfg["seed"] = seed
    return cfg


def setup_ours(
    num_envs: int,
    total_timesteps: int,
    seed: int = 42,
    callbacks: list[BaseCallback] | None = None,
    task: str = TASK,
):
    """``make_env`` + ``setup_training`` exactly as train.py does, logging into a temporary folder."""
    from isaaclab_trainer.train.trainer import make_env, setup_training

    cfg, acfg = env_cfg(num_envs, seed, task), agent_cfg(seed, task)
    env = make_env(task, cfg)
    run_dir = Path(tempfile.mkdtemp(prefix="bench_run_"))
    return setup_training(
        env, task, cfg, acfg, run_dir, total_timesteps=total_timesteps, summary_write=None, extra_callbacks=callbacks
    )


# -- timing ----------------------------------------------------------------------------------------


class Clock(BaseCallback):
    """Wall time and env steps of one ``learn()`` call, from its first to its last callback."""

    def __init__(self) -> None:
        super().__init__()
        self.t0 = self.t1 = 0.0
        self.n0 = self.n1 = 0

    def _on_training_start(self) -> None:
        self.t0, self.n0 = time.perf_counter(), self.num_timesteps

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        self.t1, self.n1 = time.perf_counter(), self.num_timesteps

    @property
    def seconds(self) -> float:
        return self.t1 - self.t0

    @property
    def steps_per_s(self) -> float:
        return (self.n1 - self.n0) / max(self.seconds, 1e-9)


def seconds(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def steps_per_s(name: str, run: Callable[[], tuple[float, int]], steps: dict[str, int]) -> Callable[[], float]:
    """``run() -> (seconds, timesteps)`` as steps/s for :func:`interleaved`, noting the timesteps in ``steps``."""

    def go() -> float:
        sec, n = run()
        steps[name] = n
        return n / sec

    return go


def interleaved(fns: dict[str, Callable[[], float]], repeats: int, alternate: bool = False) -> dict[str, list[float]]:
    """Call each ``fn`` (returning a measurement) in turn, ``repeats`` rounds: A B A B ...

    Interleaving keeps slow drifts of a shared machine out of the ratios; ``alternate`` reverses
    every other round (A B B A ...), so that neither side always runs first.
    """
    out: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(repeats):
        order = list(fns.items())
        for k, fn in reversed(order) if alternate and r % 2 else order:
            out[k].append(fn())
    return out


@contextlib.contextmanager
def background_load(processes: int) -> Iterator[None]:
    """Keep ``processes`` busy-looping Python processes running for the duration (a fixed CPU load).

    Each is pinned to one core in turn, so the load is the same in every round: left to itself the
    scheduler sometimes parks two on one core for seconds, and the measured process then gets a
    whole core in one round and half of one in the next.
    """
    cores = sorted(os.sched_getaffinity(0))
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    for i, proc in enumerate(procs):
        os.sched_setaffinity(proc.pid, {cores[i % len(cores)]})
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return float(s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))])


def paired_ratio(num: list[float], den: list[float]) -> float:
    """Median of the per-round ratios ``num[i] / den[i]`` (each pair measured back to back)."""
    return median([a / b for a, b in zip(num, den, strict=True)])


# -- results ---------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import numpy
    import stable_baselines3
    import warp

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "warp": warp.__version__,
        "sb3": stable_baselines3.__version__,
        "numpy": numpy.__version__,
    }


def line(name: str, detail: str, ratio: float) -> str:
    """The one summary line per comparison, ending in its ratio."""
    return f"[{name}] {detail}  ratio: {ratio:.2f}"


def load_json(path: Path) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text())
    return {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
        return str(v)

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


BEGIN, END = "<!-- BEGIN GENERATED RESULTS (scripts/benchmarks/run.py) -->", "<!-- END GENERATED RESULTS -->"


def write_markdown_section(md_path: Path, body: str) -> None:
    """Replace the generated block of ``md_path`` (hand-written text around it is kept)."""
    text = md_path.read_text() if md_path.is_file() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    md_path.write_text(f"{head}{BEGIN}\n{body.strip()}\n{END}{tail}")


def python_cmd() -> str:
    return "./isaaclab.sh -p scripts/benchmarks/run.py"


def quiet_stdout_of_warp() -> None:
    import warp as wp

    wp.config.quiet = True
