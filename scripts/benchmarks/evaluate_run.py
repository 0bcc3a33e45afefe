"""10. Evaluate: train.py's env steps/s while a browser panel (``BrowserPanel``, Chromium connected when
installed) evaluates its run at Full rendering on the same cores, vs train.py alone; and the delay from
a checkpoint landing (its file's time) to the first frame the panel plays with it.

train.py runs as a user starts it (a subprocess, 64 envs, a checkpoint every 16,384 timesteps); its rate
is the last summary line's (timesteps / seconds since ``learn()`` began). Rounds alternate (A B B A ...).
The panel is driven as its buttons do: actions posted to its loop thread (select the run, Evaluate).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import TASK, interleaved, line, md_table, median, paired_ratio

from isaaclab_trainer.ui.browser import CHROMIUM, CHROMIUM_HEADLESS_ARGS

NAME = "evaluate_run"
NUM_ENVS = 64
CHECKPOINT_INTERVAL = 16384
TRAIN = Path(__file__).resolve().parents[1] / "reinforcement_learning" / "sb3" / "train.py"
_RATE = re.compile(r"timesteps: (\d+)\s+steps/s: ([\d,]+)")


def _agent_yaml(folder: Path, total: int) -> Path:
    from isaaclab_trainer.tasks import agent_cfg_path

    lines = []
    for text in Path(agent_cfg_path(TASK)).read_text().splitlines():
        if text.startswith("n_timesteps:"):
            text = f"n_timesteps: {total}"
        elif text.startswith("checkpoint_interval:"):
            text = f"checkpoint_interval: {CHECKPOINT_INTERVAL}"
        lines.append(text)
    path = folder / "agent.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _train(cwd: Path, total: int, on_run_dir=None) -> float:  # noqa: ANN001 - callback
    """Run train.py to its budget in ``cwd``; its env steps/s over ``learn()``."""
    cmd = [sys.executable, str(TRAIN), "--task", TASK, "--num_envs", str(NUM_ENVS), "--headless"]
    cmd += ["--agent", str(_agent_yaml(cwd, total)), "--log_interval", str(CHECKPOINT_INTERVAL)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, text=True, env=env)
    rate = 0.0
    assert proc.stdout is not None
    for text in proc.stdout:
        if "Logging experiment in directory" in text and on_run_dir is not None:
            on_run_dir(Path(text.split(": ", 1)[1].strip()))
        match = _RATE.search(text)
        if match:
            rate = float(match.group(2).replace(",", ""))
    if proc.wait() != 0 or rate == 0.0:
        raise RuntimeError(f"train.py failed (exit {proc.returncode})")
    return rate


class EvaluatingPanel:
    """A BrowserPanel (and a headless Chromium showing it) that evaluates each run handed to it."""

    def __init__(self, log_root: Path, samples: list[Any]) -> None:
        from isaaclab_trainer.ui.browser import BrowserPanel

        self.panel = BrowserPanel(task=TASK, log_root=str(log_root), port=0)
        self.panel.start()
        self.samples = samples
        self.pw = self.browser = None
        if Path(CHROMIUM).exists():
            from playwright.sync_api import sync_playwright

            self.pw = sync_playwright().start()
            self.browser = self.pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_HEADLESS_ARGS))
            page = self.browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(self.panel.url)
            page.get_by_role("button", name="Evaluate", exact=True).wait_for(timeout=60_000)

    def evaluate(self, run_dir: Path) -> None:
        """Select ``run_dir`` once the Runs list shows it, then Evaluate (as the buttons do)."""
        vm = self.panel.vm
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            last = self.panel.last_state
            if last is not None and any(row.path == str(run_dir) for row in last.runs.rows):
                break
            time.sleep(0.05)
        self.panel.post(lambda: vm.on_select_run(str(run_dir)))
        self.panel.post(vm.on_run_evaluate)

    def sample(self) -> None:
        """Record the session's evaluation status (read on the loop thread, as every session call is)."""
        vm = self.panel.vm
        self.panel.post(lambda: self.samples.append(vm.session.status.evaluation if vm.session else None))

    def close(self) -> None:
        self.panel.close(timeout=60)
        if self.browser is not None:
            self.browser.close()
        if self.pw is not None:
            self.pw.stop()


def delays(samples: list[Any]) -> list[float]:
    """Seconds from each checkpoint file's time to the first frame played with it."""
    out: dict[tuple[str, str], float] = {}
    for ev in samples:
        if ev is None or ev.checkpoint is None or ev.first_frame_at is None:
            continue
        key = (ev.run_dir, ev.checkpoint)
        if key not in out:
            out[key] = ev.first_frame_at - (Path(ev.run_dir) / ev.checkpoint).stat().st_mtime
    return list(out.values())


def run(quick: bool) -> dict[str, Any]:
    total = CHECKPOINT_INTERVAL * (4 if quick else 8)
    repeats = 2 if quick else 3
    root = Path(tempfile.mkdtemp(prefix="bench_evaluate_"))
    samples: list[Any] = []
    browsers: list[bool] = []

    def with_panel() -> float:
        """One round of train.py with a panel open from before it starts until after it ends."""
        evaluator = EvaluatingPanel(root / "logs", samples)
        browsers.append(evaluator.browser is not None)
        stop = threading.Event()

        def sampler() -> None:
            while not stop.is_set():
                evaluator.sample()
                time.sleep(0.05)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        try:
            return _train(root, total, on_run_dir=evaluator.evaluate)
        finally:
            stop.set()
            thread.join()
            time.sleep(0.5)  # the last samples posted reach the loop
            evaluator.close()

    rates = interleaved({"alone": lambda: _train(root, total), "evaluated": with_panel}, repeats, alternate=True)
    found = delays(samples)
    ratio = paired_ratio(rates["evaluated"], rates["alone"])
    worst = max(found) if found else float("inf")
    res = {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "checkpoint_interval": CHECKPOINT_INTERVAL,
        "rounds": repeats,
        "alone_steps_per_s": median(rates["alone"]),
        "evaluated_steps_per_s": median(rates["evaluated"]),
        "alone_all": rates["alone"],
        "evaluated_all": rates["evaluated"],
        "ratio": ratio,
        "checkpoint_to_frame_s": found,
        "checkpoint_to_frame_median_s": median(found) if found else None,
        "checkpoint_to_frame_max_s": worst,
        "with_browser": all(browsers),
        "target": "ratio >= 0.85 and checkpoint-to-frame delay <= 2 s",
        "met": ratio >= 0.85 and worst <= 2.0,
    }
    res["line"] = line(
        "10 evaluate",
        f"train.py {res['alone_steps_per_s']:,.0f} steps/s alone, {res['evaluated_steps_per_s']:,.0f} while a panel "
        f"evaluates its run at Full rendering; checkpoint -> first played frame max {worst:.2f} s over "
        f"{len(found)} checkpoints (evaluated/alone)",
        ratio,
    )
    return res


def markdown(res: dict[str, Any]) -> str:
    table = md_table(
        ["train.py (64 envs)", "env steps/s (median)", "all rounds"],
        [
            ["alone", f"{res['alone_steps_per_s']:,.0f}", ", ".join(f"{r:,.0f}" for r in res["alone_all"])],
            [
                "while a panel evaluates its run (Full rendering)",
                f"{res['evaluated_steps_per_s']:,.0f}",
                ", ".join(f"{r:,.0f}" for r in res["evaluated_all"]),
            ],
        ],
    )
    found = res["checkpoint_to_frame_s"]
    spread = ", ".join(f"{d:.2f}" for d in sorted(found))
    return (
        f"{table}\n\nRatio (median of per-round ratios): {res['ratio']:.2f}. Delay from a checkpoint file's time "
        f"to the first frame played with it, {len(found)} checkpoints: median "
        f"{res['checkpoint_to_frame_median_s']:.2f} s, max {res['checkpoint_to_frame_max_s']:.2f} s ({spread}). "
        f"Chromium connected: {res['with_browser']}."
    )
