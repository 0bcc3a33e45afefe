"""Serve the "Isaac Lab" panel in a browser, with a live 3-D view of the envs (no Isaac Sim needed).

./isaaclab.sh -p scripts/reinforcement_learning/sb3/panel.py --task Isaac-Cartpole-v0 --num_envs 64

Open the printed URL, Build, Start, switch the rendering mode, Load & Play a checkpoint. Ctrl+C stops
training and saves model.zip, as train.py does. Beyond loopback (--host 0.0.0.0) the page requires a
secret token, new at every start unless --token gives one; the printed URL holds it, as Jupyter's does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys

from cli_args import OVERRIDES_HELP, OneLineParser, fail, positive_int

from isaaclab_trainer.tasks import DEFAULT_TASK, bytes_per_env, task_help
from isaaclab_trainer.tasks.isaaclab.configs import split_overrides
from isaaclab_trainer.train.checks import (
    UsageError,
    check_device,
    check_log_root,
    check_num_envs,
    check_seed,
    check_task,
)
from isaaclab_trainer.train.runs import LOG_ROOT, task_log_root
from isaaclab_trainer.ui.access import LOOPBACK, browser_options, exposure_warning

parser = OneLineParser(prog="panel.py", description=__doc__.splitlines()[0])
parser.add_argument("--task", type=str, default=DEFAULT_TASK, help=f"preselected in the panel: {task_help()}")
parser.add_argument(
    "overrides", nargs="*", metavar="key=value", help=OVERRIDES_HELP + " (the Overrides field's first value)"
)
parser.add_argument("--num_envs", type=positive_int, default=None, help="Environments field (default: the task's)")
parser.add_argument("--seed", type=int, default=None, help="Seed field (default: the task's; -1 draws one at Build)")
parser.add_argument("--device", type=str, default=None, help="simulation device: cpu, cuda or cuda:N")
parser.add_argument("--host", type=str, default=LOOPBACK, help="address to listen on (default: this machine only)")
parser.add_argument("--port", type=int, default=8080, help="port to listen on (the next free one if taken)")
parser.add_argument(
    "--token", type=str, default=None, help="secret the page requires (default: a new one beyond loopback, none on it)"
)
parser.add_argument("--log_root", type=str, default=LOG_ROOT, help="folder that holds sb3/<task>/<run>")


def main() -> None:
    args = parser.parse_args()
    try:
        check_task(args.task)
        if args.overrides:  # checked against an isaaclab: task's config when the panel builds one with them
            split_overrides(args.overrides, "panel.py")
        if args.device is not None:
            check_device(args.device, name="--device")
        if args.num_envs is not None:
            check_num_envs(args.num_envs, args.device, name="--num_envs", bytes_per_env=bytes_per_env(args.task))
        if args.seed is not None:
            check_seed(args.seed, name="--seed")
        check_log_root(task_log_root(args.task, args.log_root))
        options = browser_options(args.port, args.host, args.token)
        missing = [m for m in ("viser", "newton") if importlib.util.find_spec(m) is None]
        if missing:
            raise UsageError(f"panel.py needs {', '.join(missing)}; install them with './isaaclab.sh -i'")
    except ValueError as exc:
        fail(parser.prog, str(exc))
    if not options.loopback:
        print(f"[WARN] {exposure_warning(options.host, options.port)}", file=sys.stderr)

    from isaaclab_trainer.ui.browser_app import BrowserApp

    with contextlib.redirect_stdout(io.StringIO()):  # viser prints its own URL box; ours is the one line below
        panel = BrowserApp(
            task=args.task,
            num_envs=args.num_envs,
            seed=args.seed,
            device=args.device,
            log_root=args.log_root,
            overrides=tuple(args.overrides),
            host=options.host,
            port=options.port,
            token=options.token,
        )
    panel.start()
    print(f"[INFO] Isaac Lab panel at {panel.url} (Ctrl+C to stop)", flush=True)
    try:
        while panel.is_running():
            panel.wait(0.5)
    except KeyboardInterrupt:
        print("[INFO] stopping the panel", flush=True)
    finally:
        panel.close()
    if panel.saved_model is not None:
        print(f"[INFO] Saved the trained model to: {panel.saved_model}")


if __name__ == "__main__":
    main()
