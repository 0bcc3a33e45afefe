"""Play a trained Stable-Baselines3 checkpoint on an Isaac Lab task.

./isaaclab.sh -p scripts/reinforcement_learning/sb3/play.py --task Isaac-Cartpole-v0 --use_last_checkpoint --headless
"""

from __future__ import annotations

import time

from cli_args import (
    CHECKPOINT_HELP,
    OneLineParser,
    add_common_args,
    check_common_args,
    env_cfg_from_args,
    fail,
    launch_kit_if_needed,
    positive_int,
    record_video,
    resolve_checkpoint,
)

from isaaclab_trainer.train.checks import check_checkpoint_task

parser = OneLineParser(prog="play.py", description=__doc__.splitlines()[0])
add_common_args(parser)
parser.add_argument("--checkpoint", type=str, default=None, help=CHECKPOINT_HELP)
parser.add_argument("--use_last_checkpoint", action="store_true", help="newest run's checkpoint with the most steps")
parser.add_argument("--real-time", action="store_true", default=False, help="run in real time, if possible")
parser.add_argument("--num_episodes", type=positive_int, default=None, help="stop after N finished episodes")


def main() -> None:
    args = parser.parse_args()
    try:
        check_common_args(args)
        checkpoint = resolve_checkpoint(args.task, args.checkpoint, args.use_last_checkpoint)
    except ValueError as exc:
        fail(parser.prog, str(exc))

    app, stage = launch_kit_if_needed(args)  # Isaac Sim and its stage for --backend physx, else None

    from isaaclab_trainer.train.player import load_policy, run_episodes
    from isaaclab_trainer.train.trainer import make_env

    try:  # before the scene is built
        env_cfg = env_cfg_from_args(args, seed=args.seed)
        check_checkpoint_task(checkpoint, args.task)
    except ValueError as exc:
        fail(parser.prog, str(exc))

    env = make_env(args.task, env_cfg, render_mode="rgb_array" if args.video else None, stage=stage)
    if args.video:
        env = record_video(env, checkpoint.path.parent / "videos" / "play", lambda step: step == 0, args.video_length)
    try:
        policy = load_policy(checkpoint, env, args.task)
    except ValueError as exc:
        env.close()
        fail(parser.prog, str(exc))
    print(f"[INFO] Loading model checkpoint from: {checkpoint}")

    max_steps = args.video_length if args.video and args.num_episodes is None else None
    step_dt = env.unwrapped.step_dt
    refresh_gui = app is not None and not args.headless

    def pace(t0: float) -> None:
        """After each env step: refresh Isaac Sim's window, and keep to real time if asked."""
        if refresh_gui:
            app.update()
        if args.real_time:
            time.sleep(max(0.0, step_dt - (time.perf_counter() - t0)))

    after_step = pace if refresh_gui or args.real_time else None
    returns, lengths = run_episodes(policy, num_episodes=args.num_episodes, max_steps=max_steps, pace=after_step)
    if args.num_episodes is not None:
        mean_r, mean_l = sum(returns) / len(returns), sum(lengths) / len(lengths)
        print(f"episodes: {len(returns)}  mean return: {mean_r:.3f}  mean length: {mean_l:.1f}")
    env.close()
    if app is not None:
        app.close()


if __name__ == "__main__":
    main()
