"""pytest plugin: the ``req`` marker and the conformance report written after every run."""

import datetime
import json
from collections import defaultdict

import pytest

_results: dict[str, list[dict]] = defaultdict(list)
_cited: dict[str, tuple[str, ...]] = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "req(*ids): requirement IDs from requirements.md that the test proves")


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        ids = []
        for mark in item.iter_markers("req"):
            ids.extend(mark.args)
        if ids:
            _cited[item.nodeid] = tuple(dict.fromkeys(ids))


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    ids = _cited.get(report.nodeid)
    if not ids:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = report.outcome
        for req_id in ids:
            _results[req_id].append({"test": report.nodeid, "outcome": outcome})


def pytest_sessionfinish(session, exitstatus):
    if not _cited or getattr(session.config, "workerinput", None) is not None:
        return
    from zhili.core.conformance.report import build_report, report_path

    report = build_report(dict(_results), datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
    path = report_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError:
        return
    summary = report["summary"]
    session.config._zhili_conformance = (path, summary)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    info = getattr(config, "_zhili_conformance", None)
    if info:
        path, summary = info
        terminalreporter.write_line(
            f"conformance report: {path} (" + ", ".join(f"{k} {v}" for k, v in summary.items()) + ")"
        )
