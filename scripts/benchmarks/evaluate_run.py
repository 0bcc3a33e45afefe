"""10. Evaluate: train.py's env steps/s while a browser panel (``BrowserApp``, panel.py's app) evaluates its
run at Full rendering on the same cores, vs train.py alone, with three pages: none open (the panel then sends no
body transforms); a page drawn on another machine, which here is ``remote_page.py``: a client on loopback that
connects to the panel's websocket as viser's page does and only receives (every frame's transforms are sent, and
counted where they arrive); and a headless Chromium drawing the page on the same cores. And the delay from a
checkpoint landing (its file's time) to the first frame the panel plays with it, in its parts, for checkpoints
that landed while the panel evaluated.

train.py runs as a user starts it (a subprocess, 64 envs, a checkpoint every 16,384 timesteps); its rate
is the last summary line's (timesteps / seconds since ``learn()`` began). Rounds rotate the order of the
arms. The panel is driven as its buttons do: actions posted to its loop thread (select the run,
Evaluate); it builds the task config's 64 envs. Each round also records the CPU seconds of train.py
(its rusage), of the panel's process and of the page's processes (Chromium's, or the receiving client's; ``/proc``),
and the whole machine's busy CPU seconds (``/proc/stat``), so the shares read the same at any load average.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
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
REMOTE_PAGE = Path(__file__).resolve().parent / "remote_page.py"
#: the pages an arm opens on the panel: none, a receiving client standing in for a page on another machine, Chromium
PAGES = ("none", "remote", "chromium")
_RATE = re.compile(r"timesteps: (\d+)\s+steps/s: ([\d,]+)")
#: counts the frames the page draws (three.js draws in requestAnimationFrame callbacks, on demand)
FRAME_COUNTER = """
window.__frames = 0;
const raf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) => raf((t) => { window.__frames += 1; cb(t); });
"""
_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores; ``/proc/stat``: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK


def descendants_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of the live processes under ``root`` (not itself)."""
    parent, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rindex(")") + 2 :].split()
        parent[int(entry)] = int(rest[1])
        cpu[int(entry)] = (int(rest[11]) + int(rest[12])) / _TICK
    total, todo = 0.0, [p for p, pp in parent.items() if pp == root]
    while todo:
        pid = todo.pop()
        total += cpu[pid]
        todo += [p for p, pp in parent.items() if pp == pid]
    return total


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


def _train(cwd: Path, total: int, on_run_dir=None) -> dict[str, float]:  # noqa: ANN001 - callback
    """Run train.py to its budget in ``cwd``: its env steps/s over ``learn()``, its CPU seconds and wall time."""
    cmd = [sys.executable, str(TRAIN), "--task", TASK, "--num_envs", str(NUM_ENVS), "--headless"]
    cmd += ["--agent", str(_agent_yaml(cwd, total)), "--log_interval", str(CHECKPOINT_INTERVAL)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0, busy0 = time.monotonic(), machine_busy_s()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, text=True, env=env)
    rate, steps = 0.0, 0
    assert proc.stdout is not None
    for text in proc.stdout:
        if "Logging experiment in directory" in text and on_run_dir is not None:
            on_run_dir(Path(text.split(": ", 1)[1].strip()))
        match = _RATE.search(text)
        if match:
            rate, steps = float(match.group(2).replace(",", "")), int(match.group(1))
    _, status, usage = os.wait4(proc.pid, 0)  # its own rusage (Popen.wait would drop it)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or rate == 0.0:
        raise RuntimeError(f"train.py failed (exit {proc.returncode})")
    return {
        "rate": rate,
        "timesteps": steps,
        "train_cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": time.monotonic() - t0,
        "machine_busy_s": machine_busy_s() - busy0,
    }


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class EvaluatingPanel:
    """panel.py's app, and the page open on it (``page``, one of :data:`PAGES`), that evaluates each run handed
    to it."""

    def __init__(self, log_root: Path, samples: list[Any], page: str) -> None:
        from isaaclab_trainer.ui.browser_app import BrowserApp

        self.panel = BrowserApp(task=TASK, log_root=str(log_root), port=0)
        self.panel.start()
        self.samples = samples
        self.pw = self.browser = self.page = self.client = None
        try:
            self._open(page)
        except BaseException:
            self.close()
            raise

    def _open(self, page: str) -> None:
        if page == "chromium":
            from playwright.sync_api import sync_playwright

            self.pw = sync_playwright().start()
            self.browser = self.pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_HEADLESS_ARGS))
            self.page = self.browser.new_page(viewport={"width": 1200, "height": 800})
            self.page.add_init_script(FRAME_COUNTER)
            self.page.goto(self.panel.url)
            self.page.get_by_role("button", name="Evaluate", exact=True).wait_for(timeout=60_000)
        elif page == "remote":
            cmd = [sys.executable, str(REMOTE_PAGE), self.panel.url]
            self.client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while not self.panel.view.server.get_clients():  # connected from its first camera message on
                if self.client.poll() is not None:
                    raise self._client_gone()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the remote page did not connect to the panel at {self.panel.url} in 60 s")
                time.sleep(0.05)

    def _client_gone(self) -> RuntimeError:
        assert self.client is not None
        return RuntimeError(
            f"the remote page exited with code {self.client.wait()} (its own error, if any, is above on stderr)"
        )

    def received(self) -> dict[str, float]:
        """What the remote page has received: websocket frames, bytes, body-transform updates of the batch
        updated most (each update carries one frame's transforms of that batch)."""
        if self.client is None:
            return {}
        assert self.client.stdin is not None and self.client.stdout is not None
        if self.client.poll() is not None:
            raise self._client_gone()
        reply = ""
        with contextlib.suppress(BrokenPipeError):
            self.client.stdin.write("\n")
            self.client.stdin.flush()
            reply = self.client.stdout.readline()
        if not reply:  # it exited after the check
            raise self._client_gone()
        counts = json.loads(reply)
        if counts.get("error"):
            raise RuntimeError(f"the remote page stopped receiving: {counts['error']}")
        return {
            "received_frames": counts.get("frames", 0),
            "received_bytes": counts.get("bytes", 0),
            "transforms_received": max(counts["transforms"].values(), default=0),
        }

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

    def counters(self) -> dict[str, float]:
        """CPU seconds of this process (the panel) and of the page's processes (every child but train.py, which
        is not running when this is called: Chromium's with Playwright's driver, or the remote page's); frames
        drawn by the panel and the page, or what the remote page received."""
        return {
            "panel_cpu_s": _own_cpu_s(),
            "page_cpu_s": descendants_cpu_s(os.getpid()),
            "frames": self.panel.frames,
            "scene_frames": self.panel.scene_frames,
            "page_frames": self.page.evaluate("() => window.__frames") if self.page is not None else 0,
            **self.received(),
        }

    def close(self) -> None:
        """End the remote page (killed if it has not exited 30 s after its input ended), then the panel, then
        Chromium; each also when the one before failed."""
        try:
            if self.client is not None:
                self._close_client(self.client)
        finally:
            try:
                self.panel.close(timeout=60)
            finally:
                if self.browser is not None:
                    self.browser.close()
                if self.pw is not None:
                    self.pw.stop()

    @staticmethod
    def _close_client(client: subprocess.Popen[str]) -> None:
        assert client.stdin is not None and client.stdout is not None
        with contextlib.suppress(BrokenPipeError):  # it has exited already
            client.stdin.close()  # its end of input: it closes the connection and exits
        try:
            client.wait(timeout=30)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
        client.stdout.close()


def delays(samples: list[tuple[float, Any]]) -> list[dict[str, float]]:
    """For each checkpoint written after the panel began to evaluate its run: seconds from its file's time to
    the first frame played with it, and the parts: to the watch finding it, to its load ending, to that frame
    (the switch waits for an episode end, at most ``SWITCH_WAIT_S``)."""
    began: dict[str, float] = {}
    out: dict[tuple[str, str], dict[str, float]] = {}
    for now, ev in samples:
        if ev is None:
            continue
        began.setdefault(ev.run_dir, now)
        if ev.checkpoint is None or ev.first_frame_at is None or (ev.run_dir, ev.checkpoint) in out:
            continue
        landed = (Path(ev.run_dir) / ev.checkpoint).stat().st_mtime
        if landed > began[ev.run_dir]:
            out[(ev.run_dir, ev.checkpoint)] = {
                "total": ev.first_frame_at - landed,
                "found": ev.found_at - landed,
                "load": ev.loaded_at - ev.found_at,
                "switch": ev.first_frame_at - ev.loaded_at,
            }
    return list(out.values())


def run(quick: bool) -> dict[str, Any]:
    total = CHECKPOINT_INTERVAL * (4 if quick else 6)
    repeats = 2 if quick else 3
    root = Path(tempfile.mkdtemp(prefix="bench_evaluate_"))
    samples: dict[str, list[Any]] = {}  # arm -> its panels' evaluation samples
    with_browser = Path(CHROMIUM).exists()
    load_at_start = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    rounds: dict[str, list[dict[str, float]]] = {}

    def record(arm: str, res: dict[str, float]) -> float:
        rounds.setdefault(arm, []).append(res)
        return res["rate"]

    def with_panel(page: str) -> dict[str, float]:
        """One round of train.py with a panel (and ``page``) open from before it starts until after it ends."""
        evaluator = EvaluatingPanel(root / "logs", samples.setdefault(ARMS[page], []), page)
        stop = threading.Event()

        def sampler() -> None:
            while not stop.is_set():
                evaluator.sample()
                time.sleep(0.05)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        try:
            before = evaluator.counters()
            res = _train(root, total, on_run_dir=evaluator.evaluate)
            after = evaluator.counters()
            return {**res, **{k: after[k] - before[k] for k in after}}
        finally:
            stop.set()
            thread.join()
            time.sleep(0.5)  # the last samples posted reach the loop
            evaluator.close()

    arms = {"alone": lambda: record("alone", _train(root, total))}
    for page in PAGES if with_browser else PAGES[:2]:
        arms[ARMS[page]] = lambda page=page: record(ARMS[page], with_panel(page))
    rates = interleaved(arms, repeats, alternate=True)
    found_by_arm = {arm: delays(arm_samples) for arm, arm_samples in samples.items()}
    found = [d for arm_found in found_by_arm.values() for d in arm_found]
    totals = [d["total"] for d in found]
    worst = max(totals) if totals else float("inf")
    ratios = {arm: paired_ratio(rates[arm], rates["alone"]) for arm in rates if arm != "alone"}
    # each arm is judged on the delays of the checkpoints that landed while its own panel evaluated
    worst_by_arm = {arm: max((d["total"] for d in found_by_arm.get(arm, [])), default=float("inf")) for arm in ratios}

    def shares(arm: str) -> dict[str, float]:
        """Medians over the arm's rounds: cores used by each process and by other jobs, steps per train.py CPU s,
        frames per second, and for the remote page what it received."""
        out: dict[str, float] = {}
        for key in ("train_cpu_s", "panel_cpu_s", "page_cpu_s", "machine_busy_s"):
            if key in rounds[arm][0]:
                out[key.replace("_cpu_s", "_cores").replace("_busy_s", "_busy_cores")] = median(
                    [r[key] / r["wall_s"] for r in rounds[arm]]
                )
        ours = [r["train_cpu_s"] + r.get("panel_cpu_s", 0.0) + r.get("page_cpu_s", 0.0) for r in rounds[arm]]
        out["other_jobs_cores"] = median(
            [max(0.0, r["machine_busy_s"] - o) / r["wall_s"] for r, o in zip(rounds[arm], ours, strict=True)]
        )
        out["steps_per_train_cpu_s"] = median([r["timesteps"] / r["train_cpu_s"] for r in rounds[arm]])
        for key in ("frames", "scene_frames", "page_frames", "received_frames", "received_bytes"):
            if key in rounds[arm][0]:
                out[f"{key}_per_s"] = median([r[key] / r["wall_s"] for r in rounds[arm]])
        if "transforms_received" in rounds[arm][0]:
            out["transforms_received_per_scene_frame"] = median(
                [r["transforms_received"] / max(1, r["scene_frames"]) for r in rounds[arm]]
            )
        return out

    met = {arm: ratio >= 0.85 and worst_by_arm[arm] <= 2.0 for arm, ratio in ratios.items()}
    res = {
        "num_envs": NUM_ENVS,
        "timesteps_per_run": total,
        "checkpoint_interval": CHECKPOINT_INTERVAL,
        "rounds": repeats,
        "cores": cores,
        "load_avg_1m_at_start": load_at_start,
        "load_avg_1m_at_end": os.getloadavg()[0],
        "alone_steps_per_s": median(rates["alone"]),
        "steps_per_s": {arm: median(r) for arm, r in rates.items()},
        "all_rounds": rates,
        "cpu": {arm: shares(arm) for arm in rounds},
        "ratios": ratios,
        # the realistic case of a 2-core machine: the page drawn elsewhere (an SSH tunnel), every frame sent to it
        "ratio": ratios[ARMS["remote"]],
        "checkpoint_to_frame_s": totals,
        "checkpoint_to_frame_parts_s": found,
        "checkpoint_to_frame_median_s": median(totals) if totals else None,
        "checkpoint_to_frame_max_s": worst,
        "checkpoint_to_frame_max_s_by_arm": worst_by_arm,
        "with_browser": with_browser,
        "target": "ratio >= 0.85 and checkpoint-to-frame delay <= 2 s (the max over the checkpoints of the arm's own "
        "rounds) with the page drawn on another machine (the remote page; each arm's verdict in the line below)",
        "met_by_arm": met,
        "met": met[ARMS["remote"]],
    }
    arm_text = ", ".join(
        f"{SHORT[arm]} {ratios[arm]:.2f}x, delay max {worst_by_arm[arm]:.2f} s ({'met' if met[arm] else 'not met'})"
        for arm in ratios
    )
    res["line"] = line(
        "10 evaluate",
        f"train.py {res['alone_steps_per_s']:,.0f} steps/s alone; while a panel evaluates its run at Full rendering: "
        f"{arm_text}; checkpoint -> first played frame max {worst:.2f} s over {len(totals)} checkpoints of all arms "
        "(remote page/alone)",
        res["ratio"],
    )
    return res


#: the arm of each page
ARMS = {"none": "panel", "remote": "panel_and_remote_page", "chromium": "panel_and_browser"}
NAMES = {
    "alone": "alone",
    "panel": "while a panel evaluates its run (Full rendering, no page open)",
    "panel_and_remote_page": "while a panel evaluates its run (Full rendering, a page on another machine: "
    "a receive-only client on loopback)",
    "panel_and_browser": "while a panel evaluates its run (Full rendering, headless Chromium drawing the page on "
    "the same cores)",
}
SHORT = {"panel": "no page", "panel_and_remote_page": "remote page", "panel_and_browser": "Chromium here"}


def markdown(res: dict[str, Any]) -> str:
    rows = []
    for arm, rates in res["all_rounds"].items():
        ratio = "1.00" if arm == "alone" else f"{paired_ratio(rates, res['all_rounds']['alone']):.2f}"
        rows.append([NAMES[arm], f"{median(rates):,.0f}", ratio, ", ".join(f"{r:,.0f}" for r in rates)])
    table = md_table(["train.py (64 envs)", "env steps/s (median)", "ratio", "all rounds"], rows)
    cpu_rows = []
    for arm, c in res.get("cpu", {}).items():
        frames = "-" if "frames_per_s" not in c else f"{c['frames_per_s']:.0f} / {c['scene_frames_per_s']:.1f}"
        if "page_frames_per_s" in c and c["page_frames_per_s"]:
            page = f"{c['page_frames_per_s']:.1f} draws/s"
        elif "received_frames_per_s" in c:
            page = (
                f"{c['received_frames_per_s']:.0f} frames/s, {c['received_bytes_per_s'] / 1e3:,.0f} kB/s; "
                f"transform updates / transform frames sent {c['transforms_received_per_scene_frame']:.2f}"
            )
        else:
            page = "-"
        cores = [f"{c[k]:.2f}" if k in c else "-" for k in ("train_cores", "panel_cores", "page_cores")]
        steps = f"{c['steps_per_train_cpu_s']:,.0f}"
        cpu_rows.append([NAMES[arm], cores[0], steps, *cores[1:], f"{c['other_jobs_cores']:.2f}", frames, page])
    cpu_table = md_table(
        [
            "arm (median of rounds)",
            "train.py cores",
            "train.py steps per CPU s (start-up included)",
            "panel cores",
            "page cores (Chromium / receiving client)",
            "other jobs' cores",
            "panel frames/s / frames with transforms sent/s",
            "page",
        ],
        cpu_rows,
    )
    parts = res.get("checkpoint_to_frame_parts_s", [])
    worst_by_arm = res.get("checkpoint_to_frame_max_s_by_arm", {})  # not in results stored before it was recorded
    by_arm = ", ".join(f"{SHORT[arm]} {w:.2f} s" for arm, w in worst_by_arm.items())
    by_arm = f"; max by arm: {by_arm}" if by_arm else ""
    totals = res["checkpoint_to_frame_s"]
    spread = ", ".join(f"{d:.2f}" for d in sorted(totals))
    part_text = ""
    if parts:
        worst = max(parts, key=lambda d: d["total"])
        part_text = (
            " Parts, median / max: landed to found by the watch "
            + ", ".join(
                f"{name} {median([d[key] for d in parts]):.2f} / {max(d[key] for d in parts):.2f} s"
                for name, key in (("", "found"), ("load", "load"), ("loaded to first frame", "switch"))
            ).lstrip()
            + f"; the worst case: found {worst['found']:.2f}, load {worst['load']:.2f}, "
            f"switch {worst['switch']:.2f} s."
        )
    return (
        f"{table}\n\nCPU of each process while train.py ran ({res.get('cores', 2)} cores; cores = CPU seconds per "
        f"second of wall time; the receiving client stands in for a page on another machine, so its cores would not "
        f"be spent here):\n\n{cpu_table}\n\n"
        f"Load average {res['load_avg_1m_at_start']:.1f} at start, {res['load_avg_1m_at_end']:.1f} at end "
        f"(other jobs on the machine). Delay from a checkpoint file's time to the first frame played with it, "
        f"{len(totals)} checkpoints that landed while the panel evaluated (all arms): median "
        f"{res['checkpoint_to_frame_median_s']:.2f} s, max {res['checkpoint_to_frame_max_s']:.2f} s ({spread})"
        f"{by_arm}.{part_text}"
    )
