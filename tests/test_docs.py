"""The README's commands are the ones CI runs, and its example output is real."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
    test_cmd = next(b.strip() for b in blocks if "pytest" in b and "pip install" in b)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci.splitlines()


def test_readme_python_example_prints_what_the_readme_shows():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## From Python\n\n```python\n(.*?)```", readme, re.DOTALL).group(1)
    shown = re.search(r"Output \(from a run of this version\):\n\n```\n(.*?)```", readme, re.DOTALL).group(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == shown.strip()
