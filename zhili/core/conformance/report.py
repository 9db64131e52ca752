"""Conformance report: every requirement ID with the tests that cite it and their results.

The pytest plugin writes it after each run; ``zhili conformance`` prints it and the
system-management page shows it — the evidence a town needs for acceptance (验收).
"""

import json
import os
import re
from pathlib import Path

REQUIREMENTS_FILE = Path(__file__).with_name("requirements.md")
ROW = re.compile(r"^\|\s*(R-[^|\s]+)\s*\|\s*([^|]*)\|")


def report_path() -> Path:
    """Return where the latest report lives (``ZHILI_CONFORMANCE_REPORT`` or the data folder)."""
    explicit = os.environ.get("ZHILI_CONFORMANCE_REPORT")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("ZHILI_DATA", "zhili-data")) / "conformance.json"


def requirements(path: Path = REQUIREMENTS_FILE) -> list[dict]:
    """Return ``[{id, asks, chapter}]`` in the order of requirements.md."""
    items, chapter = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            chapter = line[3:].strip()
        match = ROW.match(line)
        if match:
            items.append({"id": match[1], "asks": match[2].strip(), "chapter": chapter})
    return items


def build_report(results: dict[str, list[dict]], created: str) -> dict:
    """Combine test results keyed by requirement ID with the catalogue."""
    rows = []
    known = set()
    for item in requirements():
        known.add(item["id"])
        tests = results.get(item["id"], [])
        if not tests:
            status = "uncited"
        elif any(t["outcome"] == "failed" for t in tests):
            status = "failed"
        elif all(t["outcome"] == "skipped" for t in tests):
            status = "skipped"
        else:
            status = "passed"
        rows.append({**item, "status": status, "tests": tests})
    unknown = sorted(set(results) - known)
    summary = {
        s: sum(1 for r in rows if r["status"] == s) for s in ("passed", "failed", "skipped", "uncited")
    }
    return {"created": created, "summary": summary, "requirements": rows, "unknown_ids": unknown}


def load_report(path: Path | None = None) -> dict | None:
    path = path or report_path()
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def format_report(report: dict) -> str:
    """Return the report as plain text for the terminal."""
    lines = [
        f"Conformance report of {report['created']}",
        "  ".join(f"{k}: {v}" for k, v in report["summary"].items()),
        "",
    ]
    for row in report["requirements"]:
        tests = len(row["tests"])
        lines.append(f"{row['status']:<8} {row['id']:<24} {tests:>3} test(s)  {row['asks'][:60]}")
    if report.get("unknown_ids"):
        lines.append("")
        lines.append("Cited IDs missing from requirements.md: " + ", ".join(report["unknown_ids"]))
    return "\n".join(lines)
