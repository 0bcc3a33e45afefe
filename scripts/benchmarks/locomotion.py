"""11. Locomotion (Isaac-Ant-v0, Isaac-Humanoid-v0) on Newton: the solver tables, and env.step() against raw stepping.

Solver table: 64 / 256 / 1024 copies of the task's ant scene (``build_ant_scene``, the task's own dt
1/120 s, contacts every step) stepped by each Newton solver for articulated robots with contacts on the CPU,
random efforts within the task's clip; physics env-steps/s, and what each does to the physics: the rest
height of the ant dropped from Isaac Lab's default pose with zero effort (4 s, 16 envs; the geometry of its
feet gives 0.42 m, ``tests/test_ant.py``), how far its hips tilt off their yaw-only axes (a revolute joint
allows none), and NaN. ``use_mujoco_cpu`` is left out: it refuses a model with several worlds. Kamino is
not measured yet.

Humanoid solver table (``python scripts/benchmarks/locomotion.py [--quick]`` runs it alone): the same for
Isaac-Humanoid-v0's own engine settings (the task env built with each ``newton_solver``: 2 substeps, self
collisions, its PD drives), random efforts within the task's per-dof clip. Physics: dropped from Isaac Lab's
1.34 m with zero effort (16 envs), the feet's height at 0.25 s (on the ground: their capsule radius 0.027 m,
``tests/test_humanoid.py``) and their lowest over 2.5 s (1 s at quick budgets; below 0.017 m: through the
ground), and how far the bodies are from where their joint coordinates put them (forward kinematics of the
solver's joint state: 0 for a solver in joint coordinates; a solver of free bodies held together by constraints
shows its joint error there).

Env overhead, per task (Isaac-Ant-v0, Isaac-Humanoid-v0): ``env.step()`` (random actions, pre-drawn; resets
where episodes end) against ``backend.step()`` alone, ``decimation`` physics steps per env step, the same model
and solver (MuJoCo Warp, captured Warp graph), interleaved rounds; raw stepping has no resets, so it steps the
robots where the env left them (fallen humanoids: more contacts a step than standing ones). Ratio = raw seconds /
env seconds for the same env steps (goal >= 0.8, every task and size), on the wall clock and on the thread's CPU
clock (``time.thread_time``: Warp's CPU kernels and torch, at one thread, run on the calling thread). Under a
load average well above the 2 cores, a round's wall time is mostly the waits for a core that other jobs hold;
the CPU clock leaves those out and counts what each side costs.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import torch
from common import interleaved, line, md_table, median, paired_ratio, write_json

NAME = "locomotion"
SOLVERS = ("mujoco", "xpbd", "featherstone")
HUMANOID = "Isaac-Humanoid-v0"
#: env steps a round of the env-overhead comparison, per task and num_envs (full, quick): a round of each is
#: about as long (a humanoid env step costs ~10x an ant's)
OVERHEAD_ROUNDS = {
    "Isaac-Ant-v0": ({64: 200, 256: 60, 1024: 16}, {64: 60, 256: 20, 1024: 6}),
    HUMANOID: ({64: 40, 256: 12, 1024: 4}, {64: 20, 256: 6, 1024: 2}),
}


def _backend(solver: str, num_envs: int):
    from pxr import Usd

    from isaaclab_trainer.sim.backends.newton_backend import NewtonBackend
    from isaaclab_trainer.sim.scene import build_ant_scene
    from isaaclab_trainer.tasks.locomotion.ant.env import MJWARP_OPTIONS

    stage = Usd.Stage.CreateInMemory()
    build_ant_scene(stage, num_envs)
    options = MJWARP_OPTIONS if solver == "mujoco" else {}
    return NewtonBackend(stage, num_envs, 1.0 / 120.0, solver=solver, contacts=True, solver_options=options)


def _default_pose(be) -> None:
    from isaaclab_trainer.sim.ant import DEFAULT_JOINT_POS

    n = be.num_envs
    q = torch.tensor([[DEFAULT_JOINT_POS[j] for j in be.joint_names]] * n)
    be.write_joint_state(torch.arange(n), q, torch.zeros_like(q))


def timed_steps(be, bound: torch.Tensor | float, steps: int) -> tuple[float, bool]:
    """Physics env-steps/s of ``steps`` steps under random efforts within ``bound``, and whether all stayed finite."""
    g = torch.Generator().manual_seed(0)
    efforts = [(torch.rand(be.num_envs, be.num_dofs, generator=g) * 2 - 1) * bound for _ in range(steps)]
    for e in efforts[:3]:  # kernels loaded, graphs captured
        be.set_joint_efforts(e)
        be.step()
    t = time.perf_counter()
    for e in efforts:
        be.set_joint_efforts(e)
        be.step()
    seconds = time.perf_counter() - t
    return be.num_envs * steps / seconds, bool(torch.isfinite(be.joint_pos()).all())


def solver_row(solver: str, num_envs: int, steps: int) -> dict[str, Any]:
    be = _backend(solver, num_envs)
    _default_pose(be)
    rate, finite = timed_steps(be, 7.5, steps)
    be.close()
    return {"solver": solver, "num_envs": num_envs, "env_steps_per_s": rate, "finite": finite}


def rest_check(solver: str, num_envs: int = 16, steps: int = 480) -> dict[str, Any]:
    be = _backend(solver, num_envs)
    _default_pose(be)
    zero = torch.zeros(num_envs, be.num_dofs)
    for _ in range(steps):
        be.set_joint_efforts(zero)
        be.step()
    z = be.root_pose()[:, 2]
    legs = [be.body_names.index(b) for b in be.body_names if b.endswith("_leg")]
    # a hip turns its leg about the torso's vertical axis only: any x/y rotation of the leg is error
    tilt = 2 * torch.asin(be.body_poses()[:, legs, 3:5].norm(dim=-1).clamp(max=1.0)).max()
    out = {"rest_height_m": float(z.mean()), "hip_tilt_deg": math.degrees(float(tilt))}
    out["rest_finite"] = bool(torch.isfinite(z).all())
    be.close()
    return out


def _humanoid(solver: str, num_envs: int):
    """Isaac-Humanoid-v0 built on ``solver`` (its scene and engine settings), in Isaac Lab's default pose."""
    from isaaclab_trainer.tasks import make_task_env

    return make_task_env(HUMANOID, num_envs=num_envs, newton_solver=solver)


def joint_error(be) -> tuple[float, float]:
    """Largest distance [m] and angle [deg] between a body's pose and the one its joint coordinates give."""
    import newton
    import warp as wp

    be.joint_pos()  # a solver of free bodies: joint coordinates from its bodies
    state = be.state
    fk = be.model.state()
    newton.eval_fk(be.model, state.joint_q, state.joint_qd, fk)
    sim, kin = wp.to_torch(state.body_q), wp.to_torch(fk.body_q)
    dist = (sim[:, :3] - kin[:, :3]).norm(dim=-1).max()
    # the rotation between the two (x, y, z, w): the vector part of conj(sim) * kin, exact at small angles
    (v1, w1), (v2, w2) = (sim[:, 3:6], sim[:, 6:]), (kin[:, 3:6], kin[:, 6:])
    vec = w1 * v2 - w2 * v1 - torch.linalg.cross(v1, v2)
    return float(dist), math.degrees(float(2 * torch.asin(vec.norm(dim=-1).clamp(max=1.0)).max()))


def humanoid_solver_row(solver: str, num_envs: int, steps: int) -> dict[str, Any]:
    env = _humanoid(solver, num_envs)
    bound = torch.zeros(env.backend.num_dofs)
    bound[env._dofs] = env._clip
    rate, finite = timed_steps(env.backend, bound, steps)
    env.close()
    return {"solver": solver, "num_envs": num_envs, "env_steps_per_s": rate, "finite": finite}


def humanoid_drop(solver: str, num_envs: int = 16, seconds: float = 2.5) -> dict[str, Any]:
    env = _humanoid(solver, num_envs)
    be = env.backend
    zero = torch.zeros(num_envs, be.num_dofs)
    steps = round(seconds / env.cfg.sim_dt)
    landed = round(0.25 / env.cfg.sim_dt)
    lowest, worst = math.inf, (0.0, 0.0)
    for step in range(steps):
        be.set_joint_efforts(zero)
        be.step()
        feet_z = be.body_poses()[:, env._feet, 2]
        lowest = min(lowest, float(feet_z.min()))
        if step + 1 == landed:
            at_landing = float(feet_z.mean())
        if step % 30 == 29:
            worst = tuple(map(max, worst, joint_error(be)))
    out = {"feet_z_at_0_25s_m": at_landing, "feet_z_lowest_m": lowest}
    out["joint_error_m"], out["joint_error_deg"] = worst
    out["rest_finite"] = bool(torch.isfinite(be.body_poses()).all())
    env.close()
    return out


def humanoid_solvers(quick: bool) -> list[dict[str, Any]]:
    """The Humanoid's solver table: speed at 64 / 256 / 1024 envs, and the drop's physics per solver (building
    1024 humanoids takes 3-4.5 min a solver at a load average of 3-5)."""
    sizes = {64: 30, 256: 10, 1024: 3} if not quick else {64: 10, 256: 3, 1024: 1}
    rows = []
    for solver in SOLVERS:
        drop = humanoid_drop(solver, seconds=2.5 if not quick else 1.0)
        rows += [{**humanoid_solver_row(solver, n, steps), **drop} for n, steps in sizes.items()]
    return rows


def env_overhead(task: str, num_envs: int, steps: int, repeats: int) -> dict[str, Any]:
    from isaaclab_trainer.tasks import make_task_env

    env = make_task_env(task, num_envs=num_envs)
    env.reset(seed=0)
    g = torch.Generator().manual_seed(0)
    actions = [torch.rand(num_envs, env.action_dim, generator=g) * 2 - 1 for _ in range(steps)]
    decimation = env.cfg.decimation

    cpu: dict[str, list[float]] = {"ours": [], "raw": []}

    def timed(name: str, fn) -> float:
        t, c = time.perf_counter(), time.thread_time()
        fn()
        cpu[name].append(num_envs * steps / (time.thread_time() - c))
        return num_envs * steps / (time.perf_counter() - t)

    def ours() -> None:
        for a in actions:
            env.step(a)

    def raw() -> None:
        for _ in range(steps * decimation):
            env.backend.step()

    ours(), raw()  # warm
    res = interleaved({"ours": lambda: timed("ours", ours), "raw": lambda: timed("raw", raw)}, repeats, alternate=True)
    env.close()
    return {
        "task": task,
        "num_envs": num_envs,
        "steps_per_round": steps,
        "ours_env_steps_per_s": median(res["ours"]),
        "raw_env_steps_per_s": median(res["raw"]),
        "ratio": paired_ratio(res["ours"], res["raw"]),
        "ours_cpu_env_steps_per_s": median(cpu["ours"]),
        "raw_cpu_env_steps_per_s": median(cpu["raw"]),
        "cpu_ratio": paired_ratio(cpu["ours"], cpu["raw"]),
    }


def run(quick: bool) -> dict[str, Any]:
    load = os.getloadavg()[0]
    sizes = {64: 60, 256: 20, 1024: 6} if not quick else {64: 20, 256: 6, 1024: 2}
    solvers = []
    for solver in SOLVERS:
        rest = rest_check(solver, steps=480 if not quick else 240)
        for n, steps in sizes.items():
            solvers.append({**solver_row(solver, n, steps), **rest})
    overhead = [
        env_overhead(task, n, k, 7 if not quick else 5)
        for task, budgets in OVERHEAD_ROUNDS.items()
        for n, k in budgets[quick].items()
    ]
    humanoid = humanoid_solvers(quick)
    ratio = min(r["ratio"] for r in overhead)
    detail = "  ".join(
        f"{r['task'].split('-')[1]} {r['num_envs']}: {r['ratio']:.2f} (CPU {r['cpu_ratio']:.2f})" for r in overhead
    )
    return {
        "solvers": solvers,
        "overhead": overhead,
        "humanoid_solvers": humanoid,
        "ratio": ratio,
        "load_avg_1m_at_start": load,
        "target": ">= 0.8 env.step() / raw stepping",
        "met": all(r["ratio"] >= 0.8 for r in overhead),
        "line": line("11 locomotion", f"env.step() vs raw MuJoCo Warp stepping, ours/raw: {detail}; the lowest", ratio),
    }


def markdown(res: dict[str, Any]) -> str:
    solvers = md_table(
        ["solver", "num_envs", "physics env-steps/s", "finite", "rest height m (expected 0.42)", "hip tilt deg"],
        [
            [
                r["solver"],
                r["num_envs"],
                f"{r['env_steps_per_s']:.0f}",
                r["finite"] and r["rest_finite"],
                f"{r['rest_height_m']:.3f}",
                f"{r['hip_tilt_deg']:.2f}",
            ]
            for r in res["solvers"]
        ],
    )
    humanoid = (
        f"\n\nHumanoid solvers:\n\n{humanoid_markdown(res['humanoid_solvers'])}" if "humanoid_solvers" in res else ""
    )
    overhead = md_table(
        [
            "task",
            "num_envs",
            "env steps/s (env.step)",
            "env steps/s (raw stepping)",
            "ours / raw",
            "CPU clock: env.step / raw",
            "ours / raw (CPU)",
        ],
        [
            [
                r["task"],
                r["num_envs"],
                f"{r['ours_env_steps_per_s']:.0f}",
                f"{r['raw_env_steps_per_s']:.0f}",
                f"**{r['ratio']:.2f}**",
                f"{r['ours_cpu_env_steps_per_s']:.0f} / {r['raw_cpu_env_steps_per_s']:.0f}"
                if "cpu_ratio" in r
                else "-",
                f"**{r['cpu_ratio']:.2f}**" if "cpu_ratio" in r else "-",
            ]
            for r in res["overhead"]
        ],
    )
    load = res.get("load_avg_1m_at_start")
    where = f"Load average {load:.1f} when this run started (other jobs on the cores). " if load is not None else ""
    return (
        f"{where}Solvers (the task's scene, 1/120 s, contacts every step):\n\n{solvers}{humanoid}\n\n"
        f"Env overhead:\n\n{overhead}"
    )


def humanoid_markdown(rows: list[dict[str, Any]]) -> str:
    return md_table(
        [
            "solver",
            "num_envs",
            "physics env-steps/s",
            "finite",
            "feet z at 0.25 s, m (on the ground: 0.027)",
            "feet z lowest, m",
            "joint error: m / deg",
        ],
        [
            [
                r["solver"],
                r["num_envs"],
                f"{r['env_steps_per_s']:.0f}",
                r["finite"] and r["rest_finite"],
                f"{r['feet_z_at_0_25s_m']:.3f}",
                f"{r['feet_z_lowest_m']:.3f}",
                f"{r['joint_error_m']:.4f} / {r['joint_error_deg']:.2f}",
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    import argparse
    from pathlib import Path

    p = argparse.ArgumentParser(description="the Humanoid's Newton solver table alone (benchmark 11 runs it too)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args()
    load = os.getloadavg()[0]
    rows = humanoid_solvers(args.quick)
    print(f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end\n\n{humanoid_markdown(rows)}")
    if args.out:
        write_json(
            Path(args.out), {"load_avg_1m_at_start": load, "load_avg_1m_at_end": os.getloadavg()[0], "rows": rows}
        )
