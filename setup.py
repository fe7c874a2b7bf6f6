"""What goes into the wheel: the packages, and of the repository's assets/ only what the app
uses (its icon), mapped into the package as playground/assets. Everything else is in
pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["core", "core.*", "playground", "playground.*"]),
        "playground.assets",
    ],
    package_dir={"playground.assets": "assets"},
    package_data={"playground.assets": ["icon.svg"]},
)
