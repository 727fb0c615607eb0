"""The Central System fixtures of tests/central, shared with the reliability tests."""

from tests.central.conftest import StartCentral, central, start_central

__all__ = ["StartCentral", "central", "start_central"]
