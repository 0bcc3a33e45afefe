"""Probe (not a comparison): can the profile hook that Kit 110.4's ``carb.profiler`` binding sets on Kit's main
thread be put back once ``sys.setprofile(None)`` has removed it? docs/benchmarks.md, comparison 9's section.

    .venv-py312/bin/python scripts/benchmarks/kit_profile_hook.py   # Python 3.12: the Kit kernel wheel is cp312

Starts one real Kit (``tests/kit_harness.py``, as Isaac Sim ships Kit: default profiler backend) running the
scenario ``tests/kit_scenarios/profile_hook.py`` (what it reads is described there) and prints its readings as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2] / "tests"
sys.path.insert(0, str(TESTS))
import kit_harness  # noqa: E402

SCENARIO = TESTS / "kit_scenarios" / "profile_hook.py"


def main() -> None:
    reason = kit_harness.kit_skip_reason()
    if reason is not None:
        sys.exit(reason)
    with tempfile.TemporaryDirectory(prefix="kit_hook_") as work:
        run = kit_harness.run_kit(kit_harness.ensure_kit_python(), SCENARIO, Path(work))
        run.check()
    print(json.dumps(run.scenario, indent=1))


if __name__ == "__main__":
    main()
