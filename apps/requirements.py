"""Print one requirement a line from pyproject.toml, for the images' dependency layer.

`python requirements.py PYPROJECT` prints the package's dependencies, `--extra NAME` one extra's.
The images install these before copying the code (apps/*/Dockerfile), so a code change rebuilds only
the last layers and a rebuild with unchanged dependencies reuses the cached install.
"""

from __future__ import annotations

import argparse
import tomllib


def requirements(pyproject: str, extra: str | None) -> list[str]:
    with open(pyproject, "rb") as file:
        project = tomllib.load(file)["project"]
    return list(project["optional-dependencies"][extra] if extra else project["dependencies"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pyproject")
    parser.add_argument("--extra")
    args = parser.parse_args()
    print("\n".join(requirements(args.pyproject, args.extra)))
