"""``python -m territorial`` runs the command line."""

import subprocess
import sys


def test_python_m_territorial_prints_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "territorial", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "Usage: territorial" in done.stdout
