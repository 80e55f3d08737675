"""A regular (wheel) install ships the models and loads them without the source tree."""

from __future__ import annotations

import subprocess
import sys
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


def test_load_model_from_an_installed_wheel(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import musclesim as ms, musclesim.io as io; m = ms.load_model(); "
            "print(ms.__file__); print(io.find_model()); print(ms.simulate(m, {'psoas_major': 0.2}).ok)")
    # run from an empty directory so the source tree is not importable
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "MUSCLESIM_NO_NUMBA": "1"})
    assert p.returncode == 0, p.stderr
    file, model_path, ok = p.stdout.split()
    assert file.startswith(str(site))
    assert "_models" in model_path
    assert ok == "True"
