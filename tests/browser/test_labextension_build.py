"""The prebuilt JupyterLab extension in ``src/amc_magic/labextension/`` is complete and is what the wheel ships.

``labextension/`` holds its source; ``jupyter-builder build labextension`` (or ``jupyter labextension
build``) writes the build into ``src/amc_magic/labextension/``, which is committed so that installing
amc-magic needs no Node.js. These checks only read files: a missing or half-written build, or a
``pyproject.toml`` that no longer installs it as ``share/jupyter/labextensions/<name>``, fails here
rather than as a missing launcher card in the browser test.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "labextension"
BUILT = ROOT / "src" / "amc_magic" / "labextension"


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_build_belongs_to_the_source_and_names_an_existing_entry_point():
    source, built = read_json(SOURCE / "package.json"), read_json(BUILT / "package.json")
    assert built["name"] == source["name"] and built["version"] == source["version"]
    assert source["jupyterlab"]["extension"] is True
    assert (SOURCE / source["jupyterlab"]["outputDir"]).resolve() == BUILT
    entry = BUILT / built["jupyterlab"]["_build"]["load"]
    assert entry.is_file(), f"{entry} is missing: rebuild with `jupyter-builder build labextension`"
    chunks = "".join(path.read_text(encoding="utf-8") for path in (BUILT / "static").glob("*.js"))
    assert "amc-magic:open-dashboard" in chunks and "AMC dashboard" in chunks
    assert not list(BUILT.rglob("*.map")), "source maps in the shipped build"


def test_the_wheel_installs_the_build_as_a_federated_extension():
    hatch = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]
    name = read_json(BUILT / "package.json")["name"]
    shared = hatch["targets"]["wheel"]["shared-data"]
    assert shared["src/amc_magic/labextension"] == f"share/jupyter/labextensions/{name}"
    assert shared["labextension/install.json"] == f"share/jupyter/labextensions/{name}/install.json"
    assert read_json(SOURCE / "install.json")["packageName"] == "amc-magic"
    assert "labextension/node_modules" in hatch["exclude"]
