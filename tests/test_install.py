"""A regular (wheel) install ships the models and loads them without the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"building the wheel failed: {p.stderr[-2000:]}")
    return next(out.glob("musclesim-*.whl"))


def test_wheel_contains_models_and_dashboard(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "musclesim/_models/adult_standing/model.toml" in names
    assert "musclesim/_models/adult_standing/README.md" in names
    assert any(n.startswith("dashboard/") for n in names)


#: Where the installed wheel goes and where numba caches its compiled core, kept between runs. The
#: standing solve is always compiled (``MUSCLESIM_NO_NUMBA`` only switches the lateral, measure and
#: compliant-lying twins to numpy), which takes a minute or two from cold; numba's cache is keyed
#: by each source file's path and modification time, so a fixed install path and the wheel's own
#: timestamps let a later run with an unchanged wheel load the core instead of compiling it again.
INSTALL = ROOT / ".pytest_cache" / "wheel-install"


def _install(wheel: Path, site: Path) -> None:
    """Unpack ``wheel`` into ``site`` with each file's timestamp from the wheel (not the unpacking time)."""
    shutil.rmtree(site, ignore_errors=True)
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            z.extract(info, site)
            stamp = time.mktime(info.date_time + (0, 0, -1))
            os.utime(site / info.filename, (stamp, stamp))


def test_load_model_from_an_installed_wheel(wheel, tmp_path):
    site = INSTALL / "site"
    _install(wheel, site)
    code = ("import musclesim as ms, musclesim.io as io; m = ms.load_model(); "
            "print(ms.__file__); print(io.find_model()); print(ms.simulate(m, {'psoas_major': 0.2}).ok)")
    # run from an empty directory so the source tree is not importable
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "MUSCLESIM_NO_NUMBA": "1",
                            "NUMBA_CACHE_DIR": str(INSTALL / "numba-cache")})
    assert p.returncode == 0, p.stderr
    file, model_path, ok = p.stdout.split()
    assert file.startswith(str(site))
    assert "_models" in model_path
    assert ok == "True"
