"""The commissioning report of a site with a 2.0.1 station beside a 1.6 one: each station's
version, the EVSEs with their connectors and types, and the 2.0.1 fields of its reservation
tests (idToken type, group token, connector type, statusInfo), read back from the PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument

from console.central.model import (
    ConnectorSnapshot,
    ReservationRecord,
    ReservationState,
    StationSnapshot,
)
from console.ocpp.enums import ChargePointStatus
from console.ocpp.reservation import ReservationStatus
from console.ocpp.v201.enums import ConnectorStatus, ConnectorType, IdTokenType
from console.ocpp.versions import OcppVersion
from console.ui.report.report import ReportData, StationReport, report_html, write_pdf
from tests.ui.report.report_site import flat, pdf_text, station_sections

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


def site_with_a_201_station() -> ReportData:
    v201 = StationSnapshot(
        "CS-201",
        connected=True,
        state_since=T0,
        vendor="Vendor",
        model="Model",
        ocpp_version=OcppVersion.V201,
        reservations_enabled=True,
        reservations_available=True,
        non_evse_specific=False,
    )
    v16 = StationSnapshot(
        "CP-16", connected=True, state_since=T0, reserve_connector_zero_supported=True
    )
    connectors = [
        ConnectorSnapshot(
            "CS-201",
            c,
            status=ConnectorStatus.OCCUPIED if (e, c) == (1, 1) else ConnectorStatus.AVAILABLE,
            status_at=T0,
            evse_id=e,
            connector_type=ConnectorType.C_CCS2,
        )
        for e, c in ((1, 1), (1, 2), (2, 1))
    ]
    common = {
        "station_id": "CS-201",
        "expiry_date": T0 + timedelta(minutes=30),
        "created_at": T0,
        "answered_at": T0 + timedelta(seconds=1),
        "latency": 0.2,
        "ocpp_version": OcppVersion.V201,
    }
    records = [
        ReservationRecord(
            reservation_id=11,
            connector_id=1,
            id_tag="TOKEN-11",
            parent_id_tag="FLEET",
            state=ReservationState.EXPIRED,
            confirmation=ReservationStatus.ACCEPTED,
            id_token_type=IdTokenType.ISO14443,
            group_id_token_type=IdTokenType.CENTRAL,
            connector_type=ConnectorType.C_CCS2,
            **common,  # type: ignore[arg-type]
        ),
        ReservationRecord(
            reservation_id=12,
            connector_id=2,
            id_tag="TOKEN-12",
            parent_id_tag=None,
            state=ReservationState.REJECTED,
            confirmation=ReservationStatus.REJECTED,
            id_token_type=IdTokenType.CENTRAL,
            status_reason="NoReservations",
            status_detail="reservations are off",
            **common,  # type: ignore[arg-type]
        ),
    ]
    return ReportData(
        generated_at=T0,
        scope="Site",
        urls=["ws://10.0.0.2:9000/ocpp/"],
        security_profile=0,
        stations=[
            StationReport(v201, connectors, records, [], 12),
            StationReport(
                v16, [ConnectorSnapshot("CP-16", 1, status=ChargePointStatus.AVAILABLE)], [], [], 3
            ),
        ],
    )


def test_the_report_shows_each_stations_version_and_the_201_fields(qapp, tmp_path: Path) -> None:
    html = report_html(site_with_a_201_station())
    path = tmp_path / "site.pdf"
    write_pdf(html, path, {})
    extracted = pdf_text(path)
    if extracted is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    sections = station_sections(extracted)
    assert set(sections) == {"CS-201", "CP-16"}
    v201, v16 = flat(sections["CS-201"]), flat(sections["CP-16"])
    assert "OCPP version 2.0.1" in v201
    assert "OCPP version 1.6" in v16
    # its reservation capability as 2.0.1 says it
    assert "Reserves any EVSE no" in v201
    assert "ReservationCtrlr enabled: yes, available: yes" in v201
    assert "Reserves connector 0 yes" in v16
    # the EVSEs with their connectors and types
    assert "EVSEs and connectors (last status)" in v201
    assert "1 1 cCCS2 Occupied" in v201
    assert "2 1 cCCS2 Available" in v201
    # the reservation rows (their cells wrap in the PDF's layout: read them whole from the
    # document the PDF is printed from, and their pieces from the PDF)
    for piece in ("EVSE 1 cCCS2", "(ISO14443)", "(group FLEET", "NoReservati"):
        assert piece in v201, piece
    document = QTextDocument()
    document.setHtml(html)
    text = flat(document.toPlainText())
    assert "EVSE 1 cCCS2 TOKEN-11 (ISO14443) (group FLEET Central)" in text
    assert "EVSE 2 TOKEN-12 (Central)" in text
    assert "reason NoReservations (reservations are off)" in text
    # the summary names each station's version
    summary = flat(extracted[extracted.index("Summary") : extracted.index("Station CS-201")])
    assert "CS-201 2.0.1" in summary
    assert "CP-16 1.6" in summary
