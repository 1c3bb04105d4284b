"""pyproject.toml lists every folder of the three roots as a package, data-only ones too:
setuptools installs only listed folders (and warns about each unlisted one in `make setup`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_source_and_data_folder_is_a_listed_package() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    tool = config["tool"]["setuptools"]
    listed = set(tool["packages"])
    on_disk = set()
    for name, folder in tool["package-dir"].items():
        root = REPO / folder
        for d in [root, *(p for p in root.rglob("*") if p.is_dir())]:
            if d.name == "__pycache__" or (d != root and not any(
                    f.is_file() and f.suffix != ".pyc" for f in d.iterdir())):
                continue
            rel = d.relative_to(root).parts
            sub = ".".join((name, *rel))
            # a folder of app/ that another root provides (none today) would be shadowed
            if not any(sub.startswith(f"{other}.") or sub == other
                       for other in tool["package-dir"] if other != name
                       and other.startswith(f"{name}.")):
                on_disk.add(sub)
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    assert listed - on_disk == set(), "these listed packages have no folder"


def test_licence_is_an_spdx_expression() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["license"] == "Apache-2.0"
