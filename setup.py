"""Build hook: copy the requirements catalogue into the package, so the conformance report works
without ../shared beside an installed copy. Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "shared" / "spec" / "requirements.md"
TARGET = HERE / "zhili" / "core" / "conformance" / "requirements.md"


class BuildWithRequirements(build_py):
    def run(self):
        if SOURCE.exists():
            shutil.copyfile(SOURCE, TARGET)
        super().run()


setup(cmdclass={"build_py": BuildWithRequirements})
