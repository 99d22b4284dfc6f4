"""`make lab`: JupyterLab from the project's .venv, opened on book/, where a chapter opens as a notebook.

Usage: python scripts/lab.py [--port 8888] [extra jupyter-lab options, e.g. --IdentityProvider.token=...]

- jupytext (its lab extension) opens a chapter's MyST Markdown as a notebook: a double click on
  ``book/ch1_conv_mse.md`` opens it with the "Jupytext Notebook" viewer (the default viewer is
  set in the settings overrides below, as jupytext's documentation describes);
- jupyterlab-myst renders its Markdown cells as MyST: math, ``{math}`` blocks with their labels,
  ``{eq}`` references, admonitions and dropdowns;
- ipywidgets (jupyterlab_widgets) makes the sliders live; the kernel is the .venv's Python, so
  ``backprop_lib`` is the clone's own (editable install).

The server binds to 127.0.0.1 only and prints its URL with the token. JupyterLab's news feed and
update check (requests to other hosts) are turned off. Saving a notebook writes the chapter's
``.md`` back through jupytext, as in any jupytext setup.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "_build" / "lab" / "settings"

# JupyterLab settings defaults for this project (overrides.json in the app settings folder)
OVERRIDES = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"},
    },
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
    # render every cell (a chapter has about 100): jupyterlab-myst resolves a reference to a label
    # in another cell only once that cell is rendered
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


def lab_command(port: int, extra: list[str]) -> list[str]:
    """The jupyter-lab command line (the settings folder is written as a side effect)."""
    SETTINGS.mkdir(parents=True, exist_ok=True)
    (SETTINGS / "overrides.json").write_text(json.dumps(OVERRIDES, indent=2) + "\n", encoding="utf-8")
    cmd = [
        str(Path(sys.executable).with_name("jupyter-lab")),
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={ROOT / 'book'}",
        "--ServerApp.open_browser=False",
        f"--LabApp.app_settings_dir={SETTINGS}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI and containers run as root
    return cmd + extra


def main() -> None:
    parser = argparse.ArgumentParser(description="JupyterLab on book/ (see the module docstring)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LAB_PORT", "8888")))
    args, extra = parser.parse_known_args()
    cmd = lab_command(args.port, extra)
    print(f"JupyterLab on {ROOT / 'book'}: open the URL with the token printed below; double-click a chapter "
          "(.md) to open it as a notebook. Ctrl-C stops the server.", flush=True)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
