"""What `pip install .` brings: only what production runs. The emulator and the SMTP sink are the demo's.

The package's metadata is made by setuptools from pyproject.toml, as pip's build would make it (egg_info,
which needs no wheel package), and its requirements read: those outside an extra's section are what
`pip install .` installs. Offline and a few seconds, so it runs in `make test`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_ONLY = {"localstripe", "aiosmtpd"}


def _requirements(tmp_path: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "egg_info", "--egg-base", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (requires,) = tmp_path.glob("*.egg-info/requires.txt")
    # Requirements of `pip install .` first, then one [section] per extra.
    by_extra: dict[str, list[str]] = {"": []}
    section = ""
    for line in requires.read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            by_extra.setdefault(section, [])
        elif line.strip():
            by_extra[section].append(line.strip())
    return by_extra


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return match.group(0).lower().replace("_", "-")


def test_a_production_install_pulls_neither_the_emulator_nor_the_smtp_sink(tmp_path: Path) -> None:
    requirements = _requirements(tmp_path)
    runtime = {_name(r) for r in requirements[""]}
    demo = {_name(r) for r in requirements.get("demo", [])}
    assert "django" in runtime and "stripe" in runtime  # the metadata was read
    assert not runtime & DEMO_ONLY, f"`pip install .` would install {sorted(runtime & DEMO_ONLY)}"
    assert demo >= DEMO_ONLY, "the demo extra (make demo, make test) must bring localstripe and aiosmtpd"
