"""The asyncio shell around one sans-IO OCPP-J Session, used by both sides (no Qt)."""

from console.link.connection import (
    FAIR_SHARE,
    CallEnding,
    CallOutcome,
    LateHandler,
    OcppLink,
    describe_close,
    outcome_of,
)

__all__ = [
    "FAIR_SHARE",
    "CallEnding",
    "CallOutcome",
    "LateHandler",
    "OcppLink",
    "describe_close",
    "outcome_of",
]
