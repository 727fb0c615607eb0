"""The proxy's routing and turn-taking, in memory (no sockets, time as numbers)."""

from __future__ import annotations

import json

from console.central.proxy.relay import Relay, Route
from console.ocpp import reservation as m
from console.ocpp.features import Role
from console.ocpp.session import ResultReceived, Session
from console.ocpp.versions import OcppVersion


def relay_with_session(timeout: float = 30.0) -> tuple[Relay, Session]:
    relay = Relay(call_timeout=timeout)
    session = Session(
        Role.CENTRAL_SYSTEM, call_timeout=timeout, version=OcppVersion.V16, id_factory=relay.new_id
    )
    relay.attach(session)
    return relay, session


def texts(relay: Relay) -> list[str]:
    return [frame.text for frame in relay.to_station()]


UPSTREAM_CALL = '[2,  "u-1", "GetConfiguration" , {"key": ["A"]}]'
CANCEL = m.CancelReservationRequest(reservation_id=7)


def test_station_frames_go_upstream_unchanged_and_upstream_answers_come_back_unchanged() -> None:
    relay, _ = relay_with_session()
    call = '[2,"s-1","Heartbeat",{ }]'
    got = relay.from_station(call, 0.0)
    assert got.forwarded
    assert got.events == []
    assert relay.to_upstream() == [call]
    answer = '[3, "s-1", {"currentTime": "2025-01-01T00:00:00Z"}]'
    relay.from_upstream(answer, 0.1)
    out = relay.to_station()
    assert [f.text for f in out] == [answer]
    assert out[0].note == Route.TO_STATION


def test_the_consoles_call_waits_behind_the_upstreams_outstanding_call() -> None:
    relay, session = relay_with_session()
    relay.from_upstream(UPSTREAM_CALL, 0.0)
    assert texts(relay) == [UPSTREAM_CALL]
    ours = session.call(CANCEL, 1.0)
    relay.call_queued(1.0)
    assert texts(relay) == []  # held: the station has the upstream's call
    station_answer = '[3,"u-1",{"configurationKey":[]}]'
    got = relay.from_station(station_answer, 2.0)
    assert got.forwarded
    assert relay.to_upstream() == [station_answer]
    sent = relay.to_station()
    assert [json.loads(f.text)[1] for f in sent] == [ours.message_id]
    assert sent[0].note is None  # the console's own frame


def test_the_upstreams_call_waits_behind_ours_and_our_answer_never_goes_upstream() -> None:
    relay, session = relay_with_session()
    ours = session.call(CANCEL, 0.0)
    relay.call_queued(0.0)
    assert [json.loads(t)[1] for t in texts(relay)] == [ours.message_id]
    relay.from_upstream(UPSTREAM_CALL, 0.5)
    assert texts(relay) == []
    assert relay.upstream_waiting == 1
    got = relay.from_station(f'[3,"{ours.message_id}",{{"status":"Accepted"}}]', 1.0)
    assert not got.forwarded
    assert isinstance(got.events[0], ResultReceived)
    assert relay.to_upstream() == []
    out = relay.to_station()
    assert [f.text for f in out] == [UPSTREAM_CALL]
    assert out[0].note is not None
    assert "held" in out[0].note


def test_a_station_call_while_ours_is_outstanding_goes_upstream_at_once() -> None:
    relay, session = relay_with_session()
    session.call(CANCEL, 0.0)
    relay.call_queued(0.0)
    relay.to_station()
    status = (
        '[2,"s-9","StatusNotification",'
        '{"connectorId":1,"errorCode":"NoError","status":"Available"}]'
    )
    assert relay.from_station(status, 0.1).forwarded
    assert relay.to_upstream() == [status]


def test_turns_alternate_when_both_wait() -> None:
    relay, session = relay_with_session()
    first = session.call(CANCEL, 0.0)
    relay.call_queued(0.0)
    relay.to_station()
    second = session.call(m.CancelReservationRequest(reservation_id=8), 0.1)
    relay.call_queued(0.1)
    relay.from_upstream(UPSTREAM_CALL, 0.2)
    relay.from_station(f'[3,"{first.message_id}",{{"status":"Accepted"}}]', 0.3)
    assert texts(relay) == [UPSTREAM_CALL]  # the upstream's turn, though ours waited longer
    relay.from_station('[3,"u-1",{}]', 0.4)
    assert [json.loads(t)[1] for t in texts(relay)] == [second.message_id]


def test_an_unanswered_upstream_call_times_out_and_a_late_answer_still_goes_upstream() -> None:
    relay, session = relay_with_session(timeout=5.0)
    relay.from_upstream(UPSTREAM_CALL, 0.0)
    relay.to_station()
    ours = session.call(CANCEL, 1.0)
    relay.call_queued(1.0)
    assert relay.next_deadline() == 5.0
    _, timed_out = relay.poll(5.0)
    assert [t.message_id for t in timed_out] == ["u-1"]
    assert [json.loads(t)[1] for t in texts(relay)] == [ours.message_id]
    late = '[3,"u-1",{}]'
    assert relay.from_station(late, 6.0).forwarded
    assert relay.to_upstream() == [late]


def test_the_consoles_ids_skip_every_id_the_upstream_used() -> None:
    relay, session = relay_with_session()
    upcoming = f"{relay._prefix}-1"  # the id the console would take next
    relay.from_upstream(f'[2,"{upcoming}","ClearCache",{{}}]', 0.0)
    relay.from_station(f'[3,"{upcoming}",{{"status":"Accepted"}}]', 0.1)
    ours = session.call(CANCEL, 0.2)
    assert ours.message_id != upcoming
    assert relay.is_console_id(ours.message_id)


def test_an_answer_routed_by_who_waits_not_by_id_alone() -> None:
    relay, session = relay_with_session()
    ours = session.call(CANCEL, 0.0)
    relay.call_queued(0.0)
    relay.to_station()
    # An upstream answer frame reusing our id (to a station call) goes to the station as is.
    odd = f'[3,"{ours.message_id}",{{}}]'
    relay.from_upstream(odd, 0.1)
    assert texts(relay) == [odd]
    # The station's answer with our id is ours, and stays with the console.
    got = relay.from_station(f'[3,"{ours.message_id}",{{"status":"Rejected"}}]', 0.2)
    assert not got.forwarded
    assert relay.to_upstream() == []


def test_the_stations_answer_to_the_upstream_names_the_call_it_answers_in_time_or_late() -> None:
    relay, _ = relay_with_session(timeout=5.0)
    relay.from_upstream(UPSTREAM_CALL, 0.0)
    relay.to_station()
    in_time = relay.from_station('[3,"u-1",{"configurationKey":[]}]', 1.0)
    assert in_time.answered_action == "GetConfiguration"
    relay.from_upstream('[2,"u-2","ClearCache",{}]', 2.0)
    relay.to_station()
    _, timed_out = relay.poll(8.0)
    assert [t.message_id for t in timed_out] == ["u-2"]
    late = relay.from_station('[3,"u-2",{"status":"Accepted"}]', 9.0)
    assert late.forwarded
    assert late.answered_action == "ClearCache"
    # The station's own calls name their action themselves.
    assert relay.from_station('[2,"s-1","Heartbeat",{}]', 10.0).answered_action is None
