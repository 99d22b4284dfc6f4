"""A downloaded chapter runs without a clone: a fresh virtual environment with only the site's
wheel installed (`pip install "backprop_lib-<version>-py3-none-any.whl[book]"`, its dependencies
resolved by pip within the versions pinned in requirements.txt, plus ipykernel, the kernel any
Jupyter brings) executes every downloaded notebook, copied to a temporary folder outside the
clone, with nbclient.

Slow: one environment per session, then every chapter (on this project's shared 2-core machine,
under load: 200 s for the environment, 25 to 60 s a chapter). pip may download from PyPI; its
usual cache applies, nothing here turns it off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bookbuild import CHAPTERS, ROOT
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from bookext import libwheel


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would point Python at the clone or the project's venv."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND", "PYTHONHOME", "JUPYTER_PATH", "PIP_REQUIRE_VIRTUALENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    return {**env, **extra}


@pytest.fixture(scope="session")
def fresh_env(built_book: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A venv outside the clone with the site's wheel and its extra installed; a kernel spec for it."""
    base = tmp_path_factory.mktemp("fresh")
    assert not base.resolve().is_relative_to(ROOT)
    wheel = built_book / "_sources" / Path(CHAPTERS[0]).parent / libwheel.wheel_name(ROOT)
    local_wheel = base / wheel.name  # as a reader has it: downloaded beside the notebook
    shutil.copy2(wheel, local_wheel)
    constraints = base / "constraints.txt"
    constraints.write_text("".join(line + "\n" for line in (ROOT / "requirements.txt").read_text().splitlines()
                                   if "==" in line and not line.startswith("#")))
    venv = base / "venv"
    python = venv / "bin" / "python"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True, env=clean_env(), timeout=300)  # noqa: SLF001
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(constraints),
               f"{local_wheel}[book]", "ipykernel"]
    result = subprocess.run(install, cwd=base, env=clean_env(), capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"pip install failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    # the library is the wheel's copy, not the clone's
    where = subprocess.run([str(python), "-c", "import backprop_lib; print(backprop_lib.__file__)"], cwd=base,
                           env=clean_env(), capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT), where
    kernels = base / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv", "language": "python"}))
    return {"base": base, "python": python, "kernels": kernels.parent}


def test_the_fresh_venv_has_only_what_the_wheel_declares(fresh_env: dict[str, Path]):
    out = subprocess.run([str(fresh_env["python"]), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                         capture_output=True, text=True, check=True, env=clean_env()).stdout
    names = {p["name"].lower().replace("_", "-") for p in json.loads(out)}
    assert {"backprop-lib", "numpy", "matplotlib", "ipywidgets", "ipykernel"} <= names
    # nothing of the book's tooling came along
    assert not names & {"jupyter-book", "sphinx", "pytest", "jupytext", "nbval", "playwright"}


@pytest.mark.parametrize("name", CHAPTERS)
def test_downloaded_notebook_runs_in_a_fresh_venv(built_book: Path, fresh_env: dict[str, Path], name: str):
    workdir = fresh_env["base"] / "run" / Path(name).name
    workdir.mkdir(parents=True)
    notebook = workdir / f"{Path(name).name}.ipynb"
    shutil.copy2(built_book / "_sources" / f"{name}.ipynb", notebook)
    nb = nbformat.read(notebook, as_version=4)
    km = KernelManager(kernel_name="fresh", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(fresh_env["kernels"])]))
    client = NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(workdir)}})
    client.execute(env=clean_env(), cwd=str(workdir))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    executed = [c for c in nb.cells if c.cell_type == "code"]
    assert executed and all(c.execution_count for c in executed)
