"""Traceability: every requirement ID with the tests that cite it (the acceptance evidence)."""

from pathlib import Path

import pytest

from zhili.core.conformance.report import REQUIREMENTS_FILE, build_report, format_report, requirements

SHARED = Path(__file__).resolve().parents[4] / "shared" / "spec" / "requirements.md"


def test_catalogue_is_parsed_with_unique_ids():
    items = requirements()
    ids = [item["id"] for item in items]
    assert len(ids) > 90
    assert len(ids) == len(set(ids))
    assert "R-7.1-people" in ids and "R-11.1" in ids


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/spec/requirements.md beside the checkout")
def test_packaged_copy_is_current():
    assert REQUIREMENTS_FILE.read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8")


def test_report_statuses():
    report = build_report(
        {
            "R-11.1": [{"test": "a", "outcome": "passed"}],
            "R-0-time": [{"test": "b", "outcome": "passed"}, {"test": "c", "outcome": "failed"}],
            "R-nope": [{"test": "d", "outcome": "passed"}],
        },
        "now",
    )
    status = {row["id"]: row["status"] for row in report["requirements"]}
    assert status["R-11.1"] == "passed"
    assert status["R-0-time"] == "failed"
    assert status["R-4.4"] == "uncited"
    assert report["unknown_ids"] == ["R-nope"]
    assert "R-11.1" in format_report(report)
