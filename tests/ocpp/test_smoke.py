from datetime import UTC, datetime

from console.ocpp.features import Role
from console.ocpp.reservation import ReserveNowRequest
from console.ocpp.session import Session


def test_reserve_now_call_serializes_exactly() -> None:
    expiry = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    session = Session(Role.CENTRAL_SYSTEM, id_factory=lambda: "1234")
    request = ReserveNowRequest(
        connector_id=1, expiry_date=expiry, id_tag="12345", parent_id_tag="00000", reservation_id=42
    )
    session.call(request, now=0.0)
    [frame] = session.data_to_send()
    assert frame.text == (
        '[2,"1234","ReserveNow",{"connectorId":1,"expiryDate":"2026-11-25T14:30:00Z",'
        '"idTag":"12345","parentIdTag":"00000","reservationId":42}]'
    )
