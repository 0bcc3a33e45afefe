"""Newton solver choice for the cartpole: steps/s of SolverFeatherstone vs SolverMuJoCo (Warp).

./isaaclab.sh -p scripts/benchmarks/newton_solvers.py

Steps per second (all envs per step) after warm-up, at 64 and 1024 envs, physics_dt 1/120 s, on
the scene builder's cartpole; the figures behind ``NewtonBackend``'s default solver
(docs/benchmarks.md, "Newton solver choice").
"""

from __future__ import annotations

import time

import torch
import warp as wp
from pxr import Usd

from isaaclab_trainer.sim.backends.newton_backend import SOLVERS, NewtonBackend
from isaaclab_trainer.sim.scene import build_scene


def steps_per_second(num_envs: int, solver: str, steps: int = 200, physics_dt: float = 1.0 / 120.0) -> float:
    """Steps per second (all envs per step) after 20 warm-up steps, from random joint states and efforts."""
    stage = Usd.Stage.CreateInMemory()
    build_scene(stage, 1)
    be = NewtonBackend(stage, num_envs, physics_dt, solver=solver)
    gen = torch.Generator().manual_seed(0)
    be.write_joint_state(
        torch.arange(num_envs), 0.2 * torch.randn(num_envs, 2, generator=gen), torch.zeros(num_envs, 2)
    )
    be.set_joint_efforts(10.0 * torch.randn(num_envs, 2, generator=gen))
    for _ in range(20):
        be.step()
    t = time.perf_counter()
    for _ in range(steps):
        be.step()
    wp.synchronize()
    return steps / (time.perf_counter() - t)


if __name__ == "__main__":
    for n in (64, 1024):
        for s in SOLVERS:
            try:
                print(f"{s:13s} {n:5d} envs: {steps_per_second(n, s):9.1f} steps/s", flush=True)
            except Exception as exc:  # noqa: BLE001 - report a solver that cannot run here and go on
                print(f"{s:13s} {n:5d} envs: failed: {exc!r}", flush=True)
