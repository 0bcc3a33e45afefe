"""Seed and hyperparameter sweeps of SB3 PPO on Ray Tune, locally or on a Ray cluster.

./isaaclab.sh -p scripts/reinforcement_learning/ray/tune.py --task Isaac-Cartpole-v0 \
    --sweep config/sweeps/cartpole_ppo.yaml --num_samples 8 --max_concurrent 2

Isaac Lab 3.0's own tasks (isaaclab:<id>) sweep a search space derived from their SB3 config (--sweep default) or a
sweep file, with Isaac Lab's key=value overrides given to every trial, e.g. offline with a local robot USD:
./isaaclab.sh -p scripts/reinforcement_learning/ray/tune.py --task isaaclab:Isaac-Cartpole --sweep default \
    env.scene.robot.spawn.usd_path=/path/cartpole.usda env.scene.ground=None
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from pathlib import Path

# the argparse glue train.py and play.py share lives beside them (scripts/reinforcement_learning/sb3/cli_args.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sb3"))

from cli_args import OVERRIDES_HELP, OneLineParser, fail, positive_int  # noqa: E402

from isaaclab_trainer.tasks import (  # noqa: E402
    DEFAULT_TASK,
    bytes_per_env,
    check_overrides_apply,
    load_agent_cfg,
    load_env_cfg,
    override_agent_cfg,
    override_env_cfg,
    task_help,
)
from isaaclab_trainer.train import sweep as sw  # noqa: E402
from isaaclab_trainer.train.checks import UsageError, check_log_root, check_num_envs, check_task  # noqa: E402
from isaaclab_trainer.train.runs import LOG_ROOT, claim_run_dir  # noqa: E402

#: Ray's shared-memory object store for a local start: trials pass it nothing but small configs
OBJECT_STORE_BYTES = 128 * 1024**2

parser = OneLineParser(prog="tune.py", description=__doc__.splitlines()[0])
parser.add_argument("--task", type=str, default=DEFAULT_TASK, help=task_help())
parser.add_argument("overrides", nargs="*", metavar="key=value", help=f"given to every trial: {OVERRIDES_HELP}")
parser.add_argument(
    "--sweep",
    type=str,
    default=None,
    help=f"sweep file (YAML): search space, search, scheduler; '{sw.DEFAULT_SWEEP}': the task's own (config/sweeps/, "
    "or for an isaaclab: task one derived from its SB3 config); a sweep file named default: ./default",
)
parser.add_argument("--seeds", type=str, default=None, help="seeds sweep of the task's own config, e.g. 1,2,3,4,5")
parser.add_argument("--num_samples", type=positive_int, default=1, help="configurations drawn (each grid in full)")
parser.add_argument("--max_concurrent", type=positive_int, default=None, help="trials at once (default: one per CPU)")
parser.add_argument(
    "--num_envs", type=positive_int, default=None, help="envs per trial unless the sweep draws num_envs"
)
parser.add_argument("--address", type=str, default=None, help="join a Ray cluster: auto, host:port or ray://host:port")
parser.add_argument("--num_cpus", type=positive_int, default=None, help="CPUs of the local Ray instance (default: all)")
parser.add_argument("--metric", type=str, default=None, help="what trials are ranked by (default: rollout/ep_rew_mean)")
parser.add_argument("--stop_timesteps", type=positive_int, default=None, help="timesteps per trial")
parser.add_argument(
    "--resume", nargs="?", const="", default=None, metavar="SWEEP_DIR", help="continue a sweep (default: the newest)"
)

_ADDRESS = re.compile(r"auto|(ray://)?[A-Za-z0-9.\-\[\]:]+:\d{1,5}")


def sweeps_root(task: str) -> Path:
    """``logs/ray/<task>``: one timestamped folder per sweep, one run folder per trial inside."""
    return Path(LOG_ROOT).resolve() / "ray" / task


def resume_dir(args) -> Path:
    """The sweep folder ``--resume`` names, or the task's newest one; UsageError if there is none."""
    if args.sweep is not None or args.seeds is not None:
        raise UsageError("--resume continues a sweep with its own settings; drop --sweep / --seeds")
    if args.overrides:
        raise UsageError(
            f"--resume continues a sweep with its own overrides (its {sw.SWEEP_RECORD}); drop {args.overrides[0]}"
        )
    if args.resume:
        folder = Path(args.resume).resolve()
    else:
        found = sorted(p for p in sweeps_root(args.task).glob("*") if (p / sw.SWEEP_RECORD).is_file())
        if not found:
            raise UsageError(
                f"--resume: no sweep of {args.task} under {sweeps_root(args.task)}; start one with --sweep or --seeds"
            )
        folder = found[-1]
    if not (folder / sw.SWEEP_RECORD).is_file() or not (folder / "tune").is_dir():
        raise UsageError(f"--resume: '{folder}' is not a sweep folder (no {sw.SWEEP_RECORD} and tune/ inside)")
    return folder


def checked_sweep(args) -> tuple[sw.Sweep, dict]:
    """The sweep of the command line, every input checked before Ray starts (UsageError / ConfigError)."""
    check_task(args.task)
    overrides = tuple(args.overrides)
    check_overrides_apply(args.task, overrides)
    if (args.sweep is None) == (args.seeds is None):
        raise UsageError(
            f"give one of --sweep FILE|{sw.DEFAULT_SWEEP} (hyperparameters) or --seeds 1,2,3 "
            "(the task's config per seed)"
        )
    agent_cfg = override_agent_cfg(args.task, load_agent_cfg(args.task), overrides)
    # an isaaclab: task's overrides are checked here (keys, asset files, kitless), as every trial will apply them
    env_cfg = override_env_cfg(load_env_cfg(args.task), "command line", overrides=overrides or None)
    num_envs = (
        check_num_envs(args.num_envs, name="--num_envs", bytes_per_env=bytes_per_env(args.task))
        if args.num_envs
        else env_cfg.num_envs
    )
    if args.seeds is not None:
        sweep = sw.seeds_sweep(
            args.task, sw.parse_seeds(args.seeds), agent_cfg, num_envs, args.metric, args.stop_timesteps
        )
    else:
        load = sw.default_sweep if args.sweep == sw.DEFAULT_SWEEP else functools.partial(sw.load_sweep, args.sweep)
        sweep = load(args.task, agent_cfg, num_envs, metric=args.metric, stop_timesteps=args.stop_timesteps)
        sweep.num_samples = args.num_samples
    sweep.overrides = list(overrides)
    if args.num_envs and "num_envs" not in sweep.space:
        sweep.space["num_envs"] = {"grid": [args.num_envs]}
    sweep.max_concurrent = args.max_concurrent
    check_log_root(sweeps_root(args.task))
    return sweep, agent_cfg


def check_ray_args(args) -> None:
    """``--address`` and ``--num_cpus``, for a new sweep and a resumed one alike."""
    if args.address is not None and args.num_cpus is not None:
        raise UsageError("--num_cpus sizes a local Ray; with --address the cluster's own CPUs are used")
    if args.address is not None and not _ADDRESS.fullmatch(args.address):
        raise UsageError(f"--address '{args.address}' is not accepted (use auto, host:port or ray://host:port)")


def start_ray(args) -> None:
    """Join the cluster at ``--address``, or start a local Ray sized to this machine (no dashboard)."""
    import ray

    if args.address is not None:
        ray.init(address=args.address, logging_level=logging.WARNING)
    else:
        ray.init(
            num_cpus=args.num_cpus,
            include_dashboard=False,
            object_store_memory=OBJECT_STORE_BYTES,
            logging_level=logging.WARNING,
        )


def main() -> None:
    args = parser.parse_args()
    try:
        check_ray_args(args)
        if args.resume is not None:
            sweep_dir = resume_dir(args)
            sweep, agent_cfg, argv = sw.read_record(sweep_dir)
        else:
            sweep, agent_cfg = checked_sweep(args)
            sweep_dir, argv = None, list(sys.argv)
    except ValueError as exc:  # UsageError, ConfigError
        fail(parser.prog, str(exc))

    from ray import tune

    if sweep_dir is None:
        sweep_dir = claim_run_dir(sweeps_root(sweep.task))
        sw.write_record(sweep, agent_cfg, sweep_dir)
    print(f"[INFO] Sweep of {sweep.task} in: {sweep_dir}")
    start_ray(args)
    trainable = sw.trainable(sweep, sweep_dir, agent_cfg, argv)
    if args.resume is not None:
        tuner = tune.Tuner.restore(str(sweep_dir / "tune"), trainable=trainable, resume_unfinished=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space=sw.param_space(sweep),
            tune_config=sw.tune_config(sweep),
            run_config=tune.RunConfig(name="tune", storage_path=str(sweep_dir), verbose=1),
        )
    results = tuner.fit()

    rows = sw.trial_rows(results, sweep)
    sw.print_table(rows, sweep)
    sw.write_table(rows, sweep, sweep_dir / sw.TABLE_CSV)
    print(f"[INFO] Trial table: {sweep_dir / sw.TABLE_CSV}")
    if sweep.seeds is not None:
        print(sw.seeds_summary(rows, sweep))
    best = sw.best_row(rows, sweep) if sweep.seeds is None else None  # seeds share one config
    if best is not None:
        sw.write_best_agent(best, agent_cfg, sweep, sweep_dir / sw.BEST_AGENT)
        print(f"[INFO] Best trial {best.trial} ({sweep.metric} {best.best:.4g}): {sweep_dir / sw.BEST_AGENT}")
    if any(r.status == "UNFINISHED" for r in rows):
        print(f"[INFO] Interrupted; finished trials are kept. Continue with: tune.py --resume {sweep_dir}")
        raise SystemExit(130)
    if all(r.error for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
