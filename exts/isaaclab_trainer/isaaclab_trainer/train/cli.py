"""What train.py and play.py share: argument checks that fail fast with one line and exit 2."""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from typing import NoReturn

from isaaclab_trainer.sim.backends.factory import BACKENDS, resolve_backend
from isaaclab_trainer.tasks import check_task


class UsageError(ValueError):
    """Bad command-line input: reported as one line on stderr, exit status 2."""


def fail(prog: str, message: str) -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
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


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) with exit status 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Flags train.py and play.py both take, named as in Isaac Lab."""
    parser.add_argument("--task", type=str, default="Isaac-Cartpole-v0", help="gym id of the task")
    parser.add_argument("--num_envs", type=positive_int, default=None, help="number of parallel environments")
    parser.add_argument("--seed", type=int, default=None, help="seed (-1 draws a random one)")
    parser.add_argument("--device", type=str, default=None, help="simulation device: cpu, cuda or cuda:N")
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help="physics: PhysX in Isaac Sim, else Newton")
    parser.add_argument("--headless", action="store_true", help="no GUI (always the case without Isaac Sim)")
    parser.add_argument("--video", action="store_true", help="record mp4 clips rendered on the CPU")
    parser.add_argument("--video_length", type=positive_int, default=200, help="env steps per clip")


def check_common_args(args: argparse.Namespace) -> None:
    """Validate what can be checked before any scene is built; raises UsageError."""
    try:
        check_task(args.task)
        resolve_backend(args.backend)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.device is not None and not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        raise UsageError(f"--device '{args.device}' is not accepted (use cpu, cuda or cuda:N)")
    if args.video:
        missing = [m for m in ("moviepy", "imageio_ffmpeg") if importlib.util.find_spec(m) is None]
        if missing:
            raise UsageError(
                f"--video needs {', '.join(missing)}; install them with "
                "'./isaaclab.sh -p -m pip install \"exts/isaaclab_trainer[video]\"'"
            )


def check_checkpoint_file(path: str) -> Path:
    """An existing model file, or UsageError naming what is wrong with ``path``."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"checkpoint '{path}' does not exist")
    if p.is_dir():
        raise UsageError(f"checkpoint '{path}' is a folder; give the model .zip inside it")
    return p
