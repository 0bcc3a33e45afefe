"""Export a trained Stable-Baselines3 policy to ONNX and TorchScript for deployment.

./isaaclab.sh -p scripts/reinforcement_learning/sb3/export.py --task Isaac-Cartpole-v0 --use_last_checkpoint

Writes <run>/exported/policy.onnx and/or policy.pt (raw observations in, SB3's deterministic action
out, VecNormalize and action clipping included) and policy.json (names, shapes, scaling, clipping).
An isaaclab:<id> run is exported with its env as the run built it (its params/env.yaml, overrides included):
./isaaclab.sh -p scripts/reinforcement_learning/sb3/export.py --task isaaclab:Isaac-Cartpole --use_last_checkpoint
"""

from __future__ import annotations

from cli_args import CHECKPOINT_HELP, OneLineParser, fail, resolve_checkpoint

from isaaclab_trainer.tasks import DEFAULT_TASK, task_help
from isaaclab_trainer.train.checks import UsageError, check_checkpoint_task, check_task
from isaaclab_trainer.train.export import FORMAT_CHOICES, check_export_deps, formats_of

parser = OneLineParser(prog="export.py", description=__doc__.splitlines()[0])
parser.add_argument("--task", type=str, default=DEFAULT_TASK, help=task_help())
parser.add_argument("--checkpoint", type=str, default=None, help=CHECKPOINT_HELP)
parser.add_argument("--use_last_checkpoint", action="store_true", help="newest run's checkpoint with the most steps")
parser.add_argument("--format", choices=FORMAT_CHOICES, default="both", help="onnx, torchscript or both (default)")


def main() -> None:
    args = parser.parse_args()
    formats = formats_of(args.format)
    try:
        check_task(args.task)
        check_export_deps(formats)
        checkpoint = resolve_checkpoint(args.task, args.checkpoint, args.use_last_checkpoint)
        check_checkpoint_task(checkpoint, args.task)
    except ValueError as exc:
        fail(parser.prog, str(exc))

    from isaaclab_trainer.train.export import export_policy
    from isaaclab_trainer.utils import ConfigError

    print(f"[INFO] Loading model checkpoint from: {checkpoint}")
    try:
        result = export_policy(checkpoint, args.task, formats)
    except (ConfigError, UsageError) as exc:
        fail(parser.prog, str(exc))
    for fmt, path in result.files.items():
        print(f"[INFO] Exported {fmt}: {path} (max |action - SB3's| {result.max_abs_diff[fmt]:.1e})")
    print(f"[INFO] Inputs, outputs and scaling: {result.metadata}")


if __name__ == "__main__":
    main()
