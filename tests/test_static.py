"""Static checks that catch what a merge can break silently: undefined names, unused imports, syntax errors."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_no_undefined_names_or_unused_imports():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency (pyproject [test]); run make test"
    result = subprocess.run([ruff, "check", "--no-cache", "--select", "F,E9", "engine", "web", "bench", "tests",
                             "tools"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
