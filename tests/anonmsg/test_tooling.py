"""The two commands' setup: finding Python, and a clear message when there is none."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_machine(tmp_path):
    """A copy of the Makefile and bin/, and a PATH whose only python3 is too old."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "Makefile", project)
    shutil.copy(REPO / "pyproject.toml", project)
    shutil.copytree(REPO / "bin", project / "bin")
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("make", "sh", "rm"):
        (tools / tool).symlink_to(shutil.which(tool))
    old_python = tools / "python3"
    old_python.write_text("#!/bin/sh\nexit 1\n")  # fails the version check, like a 3.11
    old_python.chmod(0o755)
    env = {"PATH": str(tools), "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    return project, env


def test_make_run_explains_that_python_3_12_is_missing(bare_machine):
    project, env = bare_machine
    result = subprocess.run(
        ["make", "run"], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "anonmsg needs Python 3.12 or newer, and none was found on this machine." in (
        result.stderr
    )
    assert "make run PYTHON=/path/to/python3.12" in result.stderr
    assert not (project / ".venv").exists()


def test_find_python_refuses_a_python_given_explicitly_that_is_too_old(bare_machine):
    project, env = bare_machine
    result = subprocess.run(
        ["bin/find-python"],
        cwd=project,
        env={**env, "PYTHON": "python3"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "PYTHON=python3 is not a Python 3.12 or newer."


def test_find_python_accepts_this_python():
    result = subprocess.run(
        ["bin/find-python"],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == sys.executable


def test_bin_requirements_lists_the_dependencies_of_pyproject():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    result = subprocess.run(
        [sys.executable, "bin/requirements", "dev"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split("\n")[:-1] == (
        project["dependencies"] + project["optional-dependencies"]["dev"]
    )
