"""10. Evaluate: train.py's env steps/s while a browser panel (``BrowserPanel``) evaluates its run at Full
rendering on the same cores, with a headless Chromium showing the page and without one (the browser on
another machine, through an SSH tunnel), vs train.py alone; and the delay from a checkpoint landing
(its file's time) to the first frame the panel plays with it, for checkpoints that landed while the
panel evaluated.

train.py runs as a user starts it (a subprocess, 64 envs, a checkpoint every 16,384 timesteps); its rate
is the last summary line's (timesteps / seconds since ``learn()`` began). Rounds rotate the order of the
three arms. The panel is driven as its buttons do: actions posted to its loop thread (select the run,
Evaluate); it builds the task config's 64 envs.
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

    def __init__(self, log_root: Path, samples: list[Any], browser: bool) -> None:
        from isaaclab_trainer.ui.browser import BrowserPanel

        self.panel = BrowserPanel(task=TASK, log_root=str(log_root), port=0)
        self.panel.start()
        self.samples = samples
        self.pw = self.browser = None
        if browser:
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
        now = time.time()
        self.panel.post(lambda: self.samples.append((now, vm.session.status.evaluation if vm.session else None)))

    def close(self) -> None:
        self.panel.close(timeout=60)
        if self.browser is not None:
            self.browser.close()
        if self.pw is not None:
            self.pw.stop()


def delays(samples: list[tuple[float, Any]]) -> list[float]:
    """Seconds from each checkpoint file's time to the first frame played with it, for the checkpoints
    written after the panel began to evaluate their run."""
    began: dict[str, float] = {}
    out: dict[tuple[str, str], float] = {}
    for now, ev in samples:
        if ev is None:
            continue
        began.setdefault(ev.run_dir, now)
        if ev.checkpoint is None or ev.first_frame_at is None or (ev.run_dir, ev.checkpoint) in out:
            continue
        landed = (Path(ev.run_dir) / ev.checkpoint).stat().st_mtime
        if landed > began[ev.run_dir]:
            out[(ev.run_dir, ev.checkpoint)] = ev.first_frame_at - landed
    return list(out.values())


def run(quick: bool) -> dict[str, Any]:
    total = CHECKPOINT_INTERVAL * (4 if quick else 6)
    repeats = 2 if quick else 3
    root = Path(tempfile.mkdtemp(prefix="bench_evaluate_"))
    samples: list[Any] = []
    with_browser = Path(CHROMIUM).exists()
    load_at_start = os.getloadavg()[0]

    def with_panel(browser: bool) -> float:
        """One round of train.py with a panel open from before it starts until after it ends."""
        evaluator = EvaluatingPanel(root / "logs", samples, browser)
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

    arms = {"alone": lambda: _train(root, total), "panel": lambda: with_panel(False)}
    if with_browser:
        arms["panel_and_browser"] = lambda: with_panel(True)
    rates = interleaved(arms, repeats, alternate=True)
    found = delays(samples)
    evaluated = "panel_and_browser" if with_browser else "panel"
    ratio = paired_ratio(rates[evaluated], rates["alone"])
    panel_ratio = paired_ratio(rates["panel"], rates["alone"])
    worst = max(found) if found else float("inf")
    res = {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "checkpoint_interval": CHECKPOINT_INTERVAL,
        "rounds": repeats,
        "load_avg_1m_at_start": load_at_start,
        "load_avg_1m_at_end": os.getloadavg()[0],
        "alone_steps_per_s": median(rates["alone"]),
        "evaluated_steps_per_s": median(rates[evaluated]),
        "panel_only_steps_per_s": median(rates["panel"]),
        "all_rounds": rates,
        "ratio": ratio,
        "panel_only_ratio": panel_ratio,
        "checkpoint_to_frame_s": found,
        "checkpoint_to_frame_median_s": median(found) if found else None,
        "checkpoint_to_frame_max_s": worst,
        "with_browser": with_browser,
        "target": "ratio >= 0.85 and checkpoint-to-frame delay <= 2 s",
        "met": ratio >= 0.85 and worst <= 2.0,
    }
    res["line"] = line(
        "10 evaluate",
        f"train.py {res['alone_steps_per_s']:,.0f} steps/s alone, {res['evaluated_steps_per_s']:,.0f} while a panel "
        f"evaluates its run at Full rendering{' with Chromium' if with_browser else ''} "
        f"({res['panel_only_steps_per_s']:,.0f} panel only); checkpoint -> first played frame max {worst:.2f} s "
        f"over {len(found)} checkpoints (evaluated/alone)",
        ratio,
    )
    return res


def markdown(res: dict[str, Any]) -> str:
    names = {
        "alone": "alone",
        "panel": "while a panel evaluates its run (Full rendering, no browser connected)",
        "panel_and_browser": "while a panel evaluates its run (Full rendering, headless Chromium showing it)",
    }
    rows = []
    for arm, rates in res["all_rounds"].items():
        ratio = "1.00" if arm == "alone" else f"{paired_ratio(rates, res['all_rounds']['alone']):.2f}"
        rows.append([names[arm], f"{median(rates):,.0f}", ratio, ", ".join(f"{r:,.0f}" for r in rates)])
    table = md_table(["train.py (64 envs)", "env steps/s (median)", "ratio", "all rounds"], rows)
    found = res["checkpoint_to_frame_s"]
    spread = ", ".join(f"{d:.2f}" for d in sorted(found))
    return (
        f"{table}\n\nLoad average {res['load_avg_1m_at_start']:.1f} at start, {res['load_avg_1m_at_end']:.1f} at end "
        f"(other jobs on the machine). Delay from a checkpoint file's time to the first frame played with it, "
        f"{len(found)} checkpoints that landed while the panel evaluated: median "
        f"{res['checkpoint_to_frame_median_s']:.2f} s, max {res['checkpoint_to_frame_max_s']:.2f} s ({spread})."
    )
