"""Test-wide setup: an isolated data folder, while the conformance report lands where `zhili
conformance` and the admin page look for it (./zhili-data unless ZHILI_CONFORMANCE_REPORT is set)."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault(
    "ZHILI_CONFORMANCE_REPORT",
    str(Path(os.environ.get("ZHILI_DATA", "zhili-data")).resolve() / "conformance.json"),
)
os.environ["ZHILI_DATA"] = tempfile.mkdtemp(prefix="zhili-test-")
