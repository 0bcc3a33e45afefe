"""Train a Stable-Baselines3 PPO agent on an Isaac Lab task (headless on Newton, or in Isaac Sim).

./isaaclab.sh -p scripts/reinforcement_learning/sb3/train.py --task Isaac-Cartpole-v0 --num_envs 64 --headless

Isaac Lab 3.0's own tasks (installed with ./isaaclab.sh -i isaaclab) are isaaclab:<id>, configured by Isaac Lab's
key=value overrides, e.g. offline with a local robot USD:
./isaaclab.sh -p scripts/reinforcement_learning/sb3/train.py --task isaaclab:Isaac-Cartpole --num_envs 64 \
    env.scene.robot.spawn.usd_path=/path/cartpole.usda env.scene.ground=None
"""

from __future__ import annotations

import sys
import time

from cli_args import (
    OneLineParser,
    add_common_args,
    check_common_args,
    env_cfg_from_args,
    fail,
    launch_kit_if_needed,
    make_script_env,
    positive_int,
    record_video,
)

from isaaclab_trainer.tasks import bytes_per_env
from isaaclab_trainer.train.checks import check_checkpoint, check_checkpoint_task, check_log_root, run_seed
from isaaclab_trainer.train.runs import new_run_dir, release_run_dir, task_log_root

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
        checkpoint = check_checkpoint(args.checkpoint) if args.checkpoint is not None else None
        check_log_root(task_log_root(args.task))
    except ValueError as exc:
        fail(parser.prog, str(exc))

    app, stage = launch_kit_if_needed(args)  # Isaac Sim and its stage for --backend physx, else None

    from isaaclab_trainer.tasks import load_agent_cfg, override_agent_cfg
    from isaaclab_trainer.train.sb3_cfg import process_sb3_cfg
    from isaaclab_trainer.train.trainer import best_model_line, run_learning, setup_training, stop_line

    if app is not None:
        from isaaclab_trainer.kit.app import AppUpdateCallback

    try:  # everything checkable is checked before the scene is built and the run folder created
        agent_cfg = override_agent_cfg(args.task, load_agent_cfg(args.task, path=args.agent), tuple(args.overrides))
        # Isaac Lab's rule: --seed, else the agent config's, else the task config's; a seed of -1 is drawn (and
        # printed) in env_cfg_from_args, and the agent's is the env's, the drawn one too (params/ record it)
        env_cfg = env_cfg_from_args(args, seed=run_seed(args.seed, agent_cfg))
        agent_cfg["seed"] = env_cfg.seed
        per_env = bytes_per_env(args.task)
        settings = process_sb3_cfg(agent_cfg, env_cfg.num_envs, args.agent or "agent config", bytes_per_env=per_env)
        if args.max_iterations is not None:
            agent_cfg["n_timesteps"] = args.max_iterations * settings.rollout_size(env_cfg.num_envs)
        if checkpoint is not None:
            check_checkpoint_task(checkpoint, args.task)
    except ValueError as exc:
        fail(parser.prog, str(exc))

    env = make_script_env(parser.prog, args, env_cfg, stage)
    run_dir = new_run_dir(args.task)  # claimed atomically: a run started in the same second gets "_1"
    if args.video:
        trigger = lambda step: step % args.video_interval == 0  # noqa: E731
        env = record_video(env, run_dir / "videos" / "train", trigger, args.video_length)
    try:
        setup = setup_training(
            env,
            args.task,
            env_cfg,
            agent_cfg,
            run_dir,
            checkpoint=checkpoint,
            log_interval=args.log_interval,
            summary_write=print,
            extra_callbacks=[AppUpdateCallback(app)] if app is not None and not args.headless else None,
        )
    except ValueError as exc:  # e.g. a --checkpoint whose network does not fit the config
        env.close()
        release_run_dir(run_dir, force=True)  # only the video folder can exist by now
        fail(parser.prog, str(exc))
    print(f"[INFO] Logging experiment in directory: {setup.run_dir}")
    if setup.no_best_model is not None:
        print(f"[INFO] {setup.no_best_model}")
    started = time.perf_counter()
    model_path = run_learning(setup, progress_bar=sys.stdout.isatty(), ctrl_c_stops=True)
    stopped = stop_line(setup)
    if stopped is not None:
        print(f"[INFO] {stopped}")
    print(f"[INFO] Saved the trained model to: {model_path}")
    best = best_model_line(setup, time.perf_counter() - started)
    if best is not None:
        print(f"[INFO] {best}")
    env.close()
    if app is not None:
        app.close()


if __name__ == "__main__":
    main()
