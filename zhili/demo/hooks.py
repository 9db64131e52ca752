"""Let other apps add their own demo data to the demo town without editing the demo app.

An app registers in its ``AppConfig.ready()``::

    from zhili.demo.hooks import register_demo

    register_demo("cases", build=build_case_demo, delete=delete_case_demo)

``build(town, write)`` runs after the villages, inside no transaction (open your own), gets the
``zhili.demo.context.Town`` (town division, grid, government, counters: call ``town.bulk`` or
``town.saved`` so the summary counts your rows) and ``write(message)`` for progress. It must be
deterministic (seed ``random.Random`` from ``town.spec.seed``) and mark rows ``data_source="demo"``.
``delete(write)`` removes the app's demo rows; it runs before the spine's demo rows are deleted,
in reverse registration order, so rows pointing at residents, grids or buildings go first.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoHook:
    name: str
    build: Callable
    delete: Callable | None = None


_hooks: dict[str, DemoHook] = {}


def register_demo(name: str, *, build: Callable, delete: Callable | None = None) -> None:
    """Register (or replace, on re-import) the demo builder of one app."""
    _hooks[name] = DemoHook(name, build, delete)


def demo_hooks() -> list[DemoHook]:
    return list(_hooks.values())
