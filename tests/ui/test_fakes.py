"""The fake Central System the widget tests use is held to the whole CentralSystemApi."""

from __future__ import annotations

import inspect

import pytest

from console.central.model import CentralSystemApi
from console.central.server import CentralSystem
from tests.ui.fakes import FakeCentralSystem


def api_members() -> list[str]:
    return sorted(name for name in vars(CentralSystemApi) if not name.startswith("_"))


def test_the_api_names_the_read_models_and_calls_of_the_design() -> None:
    assert set(api_members()) >= {
        "stations",
        "station",
        "connectors",
        "reservations",
        "reservation",
        "recent_trace",
        "stored_trace",
        "subscribe",
        "peek_reservation_id",
        "urls",
        "port",
        "security_profile",
        "reserve",
        "cancel_reservation",
    }


@pytest.mark.parametrize("implementation", [FakeCentralSystem, CentralSystem])
@pytest.mark.parametrize("name", api_members())
def test_every_member_is_implemented_alike(implementation: type, name: str) -> None:
    wanted = vars(CentralSystemApi)[name]
    given = inspect.getattr_static(implementation, name, None)
    assert given is not None, f"{implementation.__name__} lacks {name}"
    if isinstance(wanted, property):
        assert isinstance(given, property), f"{implementation.__name__}.{name} is no property"
        return
    assert inspect.iscoroutinefunction(given) == inspect.iscoroutinefunction(wanted), name
    expected = [(p.name, p.kind, p.default) for p in inspect.signature(wanted).parameters.values()]
    actual = [(p.name, p.kind, p.default) for p in inspect.signature(given).parameters.values()]
    # The implementation may take more (keyword) arguments; what the protocol names comes first.
    assert actual[: len(expected)] == expected, f"{implementation.__name__}.{name}"
