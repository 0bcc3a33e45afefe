"""Train a Stable-Baselines3 PPO agent on an Isaac Lab task (headless on Newton, or in Isaac Sim).

./isaaclab.sh -p scripts/reinforcement_learning/sb3/train.py --task Isaac-Cartpole-v0 --num_envs 64 --headless
"""

from __future__ import annotations

import random
import sys

from isaaclab_trainer.train.cli import (
    OneLineParser,
    UsageError,
    add_common_args,
    check_checkpoint_file,
    check_checkpoint_task,
    check_common_args,
    check_log_root,
    check_num_envs,
    fail,
    positive_int,
)

parser = OneLineParser(prog="train.py", description=__doc__.splitlines()[0])
add_common_args(parser)
parser.add_argument("--video_interval", type=positive_int, default=2000, help="env steps between clips")
parser.add_argument("--max_iterations", type=positive_int, default=None, help="PPO iterations (overrides n_timesteps)")
parser.add_argument("--checkpoint", type=str, default=None, help="resume training from this model .zip")
parser.add_argument("--agent", type=str, default=None, help="agent config YAML to use instead of the task's")
parser.add_argument("--log_interval", type=positive_int, default=100_000, help="timesteps between summary lines")


def main() -> None:
    args = parser.parse_args()
    try:
        check_common_args(args)
        if args.checkpoint is not None:
            check_checkpoint_file(args.checkpoint)
        from isaaclab_trainer.train.runs import task_log_root

        check_log_root(task_log_root(args.task))
    except UsageError as exc:
        fail(parser.prog, str(exc))

    if args.backend == "physx":
        from isaaclab_trainer.kit.app import launch_app  # Isaac Sim only

        app = launch_app(headless=args.headless)  # noqa: F841 - keeps Kit alive while training

    from gymnasium.wrappers import RecordVideo

    from isaaclab_trainer.tasks import env_cfg_path, load_agent_cfg, load_env_cfg
    from isaaclab_trainer.train.runs import new_run_dir
    from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
    from isaaclab_trainer.train.trainer import make_env, run_learning, setup_training
    from isaaclab_trainer.utils import ConfigError

    try:
        env_cfg = load_env_cfg(args.task)
        agent_cfg = load_agent_cfg(args.task, path=args.agent)
    except ConfigError as exc:
        fail(parser.prog, str(exc))
    if args.seed is not None:
        agent_cfg["seed"] = random.randint(0, 10_000) if args.seed == -1 else args.seed
    env_cfg.seed = agent_cfg.get("seed", env_cfg.seed)
    env_cfg.backend = args.backend
    if args.num_envs is not None:
        env_cfg.num_envs = args.num_envs
    if args.device is not None:
        env_cfg.device = args.device
    if args.max_iterations is not None:
        agent_cfg["n_timesteps"] = args.max_iterations * agent_cfg.get("n_steps", 2048) * env_cfg.num_envs
    try:  # everything checkable is checked before the scene is built and the run folder created
        check_num_envs(
            env_cfg.num_envs,
            env_cfg.device,
            name="--num_envs" if args.num_envs else f"{env_cfg_path(args.task)}: num_envs",
        )
        process_sb3_cfg(agent_cfg, env_cfg.num_envs, source=args.agent or "agent config")
        if args.checkpoint is not None:
            check_checkpoint_task(args.checkpoint, args.task)
    except (ConfigError, UsageError) as exc:
        fail(parser.prog, str(exc))

    run_dir = new_run_dir(args.task)
    env = make_env(args.task, env_cfg, render_mode="rgb_array" if args.video else None)
    if args.video:
        env = RecordVideo(
            env,
            video_folder=str(run_dir / "videos" / "train"),
            step_trigger=lambda step: step % args.video_interval == 0,
            video_length=args.video_length,
            disable_logger=True,
        )
    try:
        setup = setup_training(
            env,
            args.task,
            env_cfg,
            agent_cfg,
            run_dir,
            checkpoint=args.checkpoint,
            log_interval=args.log_interval,
            summary_write=print,
        )
    except ConfigError as exc:
        fail(parser.prog, str(exc))
    print(f"[INFO] Logging experiment in directory: {setup.run_dir}")
    model_path = run_learning(setup, progress_bar=sys.stdout.isatty())
    print(f"[INFO] Saved the trained model to: {model_path}")
    env.close()


if __name__ == "__main__":
    main()
