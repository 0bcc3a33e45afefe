"""Play a trained Stable-Baselines3 checkpoint on an Isaac Lab task.

./isaaclab.sh -p scripts/reinforcement_learning/sb3/play.py --task Isaac-Cartpole-v0 --use_last_checkpoint --headless

``--evaluate [RUN]`` follows a run that trains meanwhile (default: the task's newest run): each new
checkpoint is played for ``--num_episodes`` episodes (default: one per env) and gets one line
``checkpoint: <steps> episodes: N mean return: X``, until the run has finished or Ctrl+C.

An ``isaaclab:`` task replays what was trained: with no ``key=value`` override on the command line, the played run's
recorded ones (its ``params/env.yaml``) apply; any given on the command line replace them all.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cli_args import (
    CHECKPOINT_HELP,
    OneLineParser,
    add_common_args,
    check_common_args,
    env_cfg_from_args,
    fail,
    launch_kit_if_needed,
    make_script_env,
    positive_int,
    record_video,
    resolve_checkpoint,
)

from isaaclab_trainer.tasks import OWN_SOURCE, task_source
from isaaclab_trainer.train.checks import UsageError, check_checkpoint_task, run_seed
from isaaclab_trainer.train.follow import POLL_PERIOD_S, CheckpointWatch, check_run_dir, checkpoint_timesteps
from isaaclab_trainer.train.runs import list_runs, recorded_overrides, task_log_root

parser = OneLineParser(prog="play.py", description=__doc__.splitlines()[0])
add_common_args(parser)
parser.add_argument("--checkpoint", type=str, default=None, help=CHECKPOINT_HELP)
parser.add_argument("--use_last_checkpoint", action="store_true", help="newest run's checkpoint with the most steps")
parser.add_argument("--real-time", action="store_true", default=False, help="run in real time, if possible")
parser.add_argument("--num_episodes", type=positive_int, default=None, help="stop after N finished episodes")
parser.add_argument(
    "--evaluate",
    nargs="?",
    const="",
    default=None,
    metavar="RUN",
    help="play each new checkpoint of a training run as it lands (default: the newest run)",
)


def resolve_run(task: str, run: str) -> Path:
    """The run folder ``--evaluate`` follows: the one given, else the task's newest; UsageError if none."""
    if run:
        return check_run_dir(run)
    found = list_runs(task)
    if not found:
        raise UsageError(f"no run under {task_log_root(task)} to evaluate; start train.py first or give --evaluate RUN")
    return found[-1]


def replay_overrides(args, run_dir: Path) -> None:  # noqa: ANN001 - argparse's namespace
    """A task source's task with no ``key=value`` override on the command line: the played run's recorded ones
    (said in one line)."""
    if args.overrides or task_source(args.task) == OWN_SOURCE:
        return
    args.overrides = list(recorded_overrides(run_dir))
    if args.overrides:
        print(f"[INFO] Overrides recorded by the run: {' '.join(args.overrides)}")


def main() -> None:
    args = parser.parse_args()
    try:
        check_common_args(args)
        if args.evaluate is not None:
            if args.checkpoint is not None or args.use_last_checkpoint:
                raise UsageError(
                    "--evaluate follows a run's checkpoints; give it no --checkpoint/--use_last_checkpoint"
                )
            watch = CheckpointWatch(resolve_run(args.task, args.evaluate), args.task)
        else:
            checkpoint = resolve_checkpoint(args.task, args.checkpoint, args.use_last_checkpoint)
        replay_overrides(args, watch.run_dir if args.evaluate is not None else checkpoint.path.parent)
    except ValueError as exc:
        fail(parser.prog, str(exc))

    app, stage = launch_kit_if_needed(args)  # Isaac Sim and its stage for --backend physx, else None

    from isaaclab_trainer.tasks import load_agent_cfg
    from isaaclab_trainer.train.player import evaluate, load_policy

    try:  # before the scene is built; the seed by Isaac Lab's rule, as train.py
        env_cfg = env_cfg_from_args(args, seed=run_seed(args.seed, load_agent_cfg(args.task)))
        if args.evaluate is None:
            check_checkpoint_task(checkpoint, args.task)
    except ValueError as exc:
        fail(parser.prog, str(exc))

    if args.evaluate is not None:
        follow_run(args, watch, env_cfg, app, stage)
        return

    env = make_script_env(parser.prog, args, env_cfg, stage)
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
    returns, lengths = evaluate(policy, episodes=args.num_episodes, steps=max_steps, pace=after_step)
    if args.num_episodes is not None:
        mean_r, mean_l = sum(returns) / len(returns), sum(lengths) / len(lengths)
        print(f"episodes: {len(returns)}  mean return: {mean_r:.3f}  mean length: {mean_l:.1f}")
    env.close()
    if app is not None:
        app.close()


def follow_run(args, watch: CheckpointWatch, env_cfg, app, stage) -> None:  # noqa: ANN001 - argparse/Kit values
    """``--evaluate``: play each checkpoint that lands in the run, one line each, until it ended or Ctrl+C."""
    from isaaclab_trainer.train.player import evaluate, load_policy

    env = make_script_env(parser.prog, args, env_cfg, stage)
    clip_starts = {0}  # a clip of each checkpoint: the env steps at which one starts playing
    if args.video:
        env = record_video(env, watch.run_dir / "videos" / "evaluate", clip_starts.__contains__, args.video_length)
    episodes = args.num_episodes or env.unwrapped.num_envs
    print(f"[INFO] Evaluating the checkpoints of: {watch.run_dir}")
    played, said = 0, None
    try:
        while True:
            ended = watch.finished()  # before looking: a run that ended has written its last checkpoint
            checkpoint = watch.poll(force=True)
            if watch.problem is not None and watch.problem != said:
                said = watch.problem
                print(f"{parser.prog}: warning: {said}", file=sys.stderr)
            if checkpoint is None:
                if ended:
                    break
                time.sleep(POLL_PERIOD_S)
                continue
            try:
                player = load_policy(checkpoint, env, args.task)
            except ValueError as exc:  # a network that does not fit: named, then the next checkpoint
                print(f"{parser.prog}: warning: {exc}", file=sys.stderr)
                continue
            returns, _ = evaluate(player, episodes=episodes)
            played += player.steps
            clip_starts.add(played)
            mean = sum(returns) / len(returns)
            print(f"checkpoint: {checkpoint_timesteps(checkpoint)} episodes: {len(returns)} mean return: {mean:.3f}")
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        env.close()
        if app is not None:
            app.close()


if __name__ == "__main__":
    main()
