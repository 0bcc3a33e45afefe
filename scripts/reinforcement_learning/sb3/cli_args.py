"""What train.py and play.py share: argparse with one-line errors, the checks of their flags, Isaac
Sim's launch for ``--backend physx``, env-config overrides from the flags and video recording.

Kept beside the scripts, as Isaac Lab keeps ``cli_args.py`` next to its SB3 ``train.py``; the rules
themselves live in ``isaaclab_trainer.train.checks``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from isaaclab_trainer.sim.backends.registry import AUTO, PHYSX, backend_names
from isaaclab_trainer.tasks import DEFAULT_TASK, bytes_per_env, check_overrides_apply, no_best_model_line, task_help
from isaaclab_trainer.train.checks import (
    MAX_SEED,
    RANDOM_SEED,
    Checkpoint,
    UsageError,
    check_backend,
    check_checkpoint,
    check_device,
    check_num_envs,
    check_seed,
    check_task,
    check_video_packages,
    resolve_seed,
)
from isaaclab_trainer.train.runs import (
    BEST,
    CHECKPOINT_SELECTORS,
    LATEST,
    is_selector,
    latest_checkpoint,
    select_checkpoint,
    task_log_root,
)
from isaaclab_trainer.utils import ConfigError, printable

if TYPE_CHECKING:
    import gymnasium as gym


def fail(prog: str, message: str) -> NoReturn:
    """Print ``<prog>: error: <message>`` on stderr and exit with status 2, as argparse does."""
    print(f"{prog}: error: {printable(message)}", file=sys.stderr)
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


def seed_arg(text: str) -> int:
    """argparse type for --seed: an integer (its range is checked with the other flags)."""
    try:
        return int(text)
    except ValueError:
        accepted = f"-1 for a random seed, or an integer from 0 to {MAX_SEED}"
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer (accepted: {accepted})") from None


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) with exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)


#: help text of the key=value overrides (train.py, play.py)
OVERRIDES_HELP = (
    "Isaac Lab-style overrides of an isaaclab: task's configs, e.g. "
    "env.scene.robot.spawn.usd_path=/path/robot.usd env.scene.ground=None agent.n_steps=32 physics=newton_mjwarp"
)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags train.py and play.py both take, named as in Isaac Lab."""
    parser.add_argument("--task", type=str, default=DEFAULT_TASK, help=task_help())
    parser.add_argument("overrides", nargs="*", metavar="key=value", help=OVERRIDES_HELP)
    parser.add_argument("--num_envs", type=positive_int, default=None, help="number of parallel environments")
    parser.add_argument(
        "--seed",
        type=seed_arg,
        default=None,
        help="seed (default: the agent config's, else the task config's; -1 draws a random one)",
    )
    parser.add_argument("--device", type=str, default=None, help="simulation device: cpu, cuda or cuda:N")
    parser.add_argument(
        "--backend", choices=backend_names(), default=AUTO, help="physics: PhysX in Isaac Sim, else Newton"
    )
    parser.add_argument("--headless", action="store_true", help="no GUI (always the case without Isaac Sim)")
    parser.add_argument("--video", action="store_true", help="record mp4 clips rendered on the CPU")
    parser.add_argument("--video_length", type=positive_int, default=200, help="env steps per clip")


def check_common_args(args: argparse.Namespace) -> None:
    """Validate what can be checked before any scene is built; raises UsageError."""
    check_task(args.task)
    check_overrides_apply(args.task, tuple(args.overrides))
    if args.device is not None:
        check_device(args.device, name="--device")
    if args.backend == PHYSX:
        if importlib.util.find_spec("isaacsim") is None:  # the script launches Isaac Sim itself
            raise UsageError("--backend physx needs Isaac Sim (isaacsim is not importable); use newton or auto")
    else:
        check_backend(args.backend)
    if args.num_envs is not None:
        check_num_envs(args.num_envs, args.device, name="--num_envs", bytes_per_env=bytes_per_env(args.task))
    if args.seed is not None:
        check_seed(args.seed, name="--seed")
    if args.video:
        check_video_packages()


def launch_kit_if_needed(args: argparse.Namespace) -> tuple[Any, Any]:
    """Start Isaac Sim for ``--backend physx``: ``(SimulationApp, its USD stage)``, else ``(None, None)``."""
    if args.backend != PHYSX:
        return None, None
    from isaaclab_trainer.kit.app import launch_app  # Isaac Sim only

    return launch_app(headless=args.headless)


def env_cfg_from_args(args: argparse.Namespace, seed: int | None = None) -> Any:
    """The task's env config with the command line's overrides, its env count checked (UsageError)."""
    from isaaclab_trainer.tasks import env_cfg_source, load_env_cfg, override_env_cfg

    env_cfg = load_env_cfg(args.task)
    if args.device is None:  # the task YAML's device must exist here too
        check_device(env_cfg.device, name=f"{env_cfg_source(args.task)}: device")
    if args.num_envs is None:  # --num_envs was checked with the other flags; the YAML's value is not yet
        device = env_cfg.device if args.device is None else args.device
        name = f"{env_cfg_source(args.task)}: num_envs"
        check_num_envs(env_cfg.num_envs, device, name=name, bytes_per_env=bytes_per_env(args.task))
    overrides = tuple(args.overrides) or None  # an isaaclab: task's key=value overrides (checked there)
    env_cfg = override_env_cfg(
        env_cfg,
        "command line",
        backend=args.backend,
        num_envs=args.num_envs,
        seed=seed,
        device=args.device,
        overrides=overrides,
    )
    if env_cfg.seed == RANDOM_SEED:  # --seed -1 or a config's -1: draw one, as Isaac Lab does, and say which
        env_cfg.seed = resolve_seed(env_cfg.seed)
        print(f"[INFO] Random seed (-1): drew seed {env_cfg.seed}")
    return env_cfg


#: help text of play.py's and export.py's --checkpoint
CHECKPOINT_HELP = (
    "model .zip, or 'latest' (as --use_last_checkpoint) or 'best' (the newest run's model_best.zip); "
    "default: newest run's model.zip"
)


def resolve_checkpoint(task: str, checkpoint: str | None, use_last_checkpoint: bool) -> Checkpoint:
    """``--checkpoint`` checked, else the newest run's ``model.zip`` (with ``--use_last_checkpoint`` or
    ``--checkpoint latest``, its checkpoint with the most steps; with ``--checkpoint best``, its
    ``model_best.zip``); UsageError when there is none. Used by play.py and export.py."""
    path: str | Path | None = checkpoint
    no_best = no_best_model_line(task) if checkpoint == BEST and is_selector(checkpoint) else None
    if no_best is not None:
        raise UsageError(no_best)
    if checkpoint is not None and is_selector(checkpoint):
        path = select_checkpoint(task, checkpoint)
        if path is None:
            wanted = CHECKPOINT_SELECTORS[checkpoint]
            raise UsageError(f"no run with {wanted} under {task_log_root(task)}; train first or give a path")
    if path is None:
        path = latest_checkpoint(task, use_last_checkpoint=use_last_checkpoint)
        if path is None:
            wanted = CHECKPOINT_SELECTORS[LATEST] if use_last_checkpoint else "a model.zip"
            raise UsageError(f"no run with {wanted} under {task_log_root(task)}; train first or give --checkpoint")
    return check_checkpoint(path)


def make_script_env(prog: str, args: argparse.Namespace, env_cfg: Any, stage: Any) -> gym.Env:
    """The task's env for train.py / play.py (``--video``: one that draws frames); a ConfigError its building
    raises (no OpenGL for the video) is one line, before any run folder is made."""
    from isaaclab_trainer.train.trainer import make_env

    try:
        return make_env(args.task, env_cfg, render_mode="rgb_array" if args.video else None, stage=stage)
    except ConfigError as exc:
        fail(prog, str(exc))


def record_video(env: gym.Env, folder: Path, trigger: Callable[[int], bool], length: int) -> gym.Env:
    """gymnasium's RecordVideo with Isaac Lab's settings (clips of ``length`` env steps)."""
    from gymnasium.wrappers import RecordVideo

    return RecordVideo(env, video_folder=str(folder), step_trigger=trigger, video_length=length, disable_logger=True)
