"""Install the repository's top-level folders under one import name: duban.engine, duban.cli, duban.web, duban.workflows.

The folders stay where a newcomer looks for them (engine/, cli/, web/, workflows/); the mapping keeps
them from colliding with any other project's module named ``engine`` or ``cli`` in site-packages.
Packages are found, not listed: a new sub-package is installed without touching this file.
"""

from setuptools import find_packages, setup

FOLDERS = ("engine", "cli", "web", "workflows")

setup(
    packages=[
        f"duban.{name}" for name in find_packages(include=[f"{f}" for f in FOLDERS] + [f"{f}.*" for f in FOLDERS])
    ],
    package_dir={f"duban.{folder}": folder for folder in FOLDERS},
)
