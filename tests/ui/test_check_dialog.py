"""The reservation check in the window: the steps model, the dialog, its wiring.

The dialog tests drive a :class:`FakeCheckRunner` step by step on the qasync loop of
:class:`LoopDriver`; one end-to-end test runs the real check against a simulated station.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QModelIndex, Qt

from console.central.check_model import CheckResult, CheckStep, Verdict
from console.ui.check_steps_model import (
    CheckStepsModel,
    StepColumn,
    format_duration,
    verdict_summary,
)
from tests.ui.fakes import check_steps

T0 = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


def fresh_result(connectors: tuple[int, ...] = (1,), *, guided: bool = False) -> CheckResult:
    return CheckResult(
        check_id=None,
        station_id="CP-01",
        started_at=T0,
        connectors=connectors,
        id_tag="CARD1",
        guided=guided,
        steps=check_steps(connectors, guided=guided),
    )


def with_step(result: CheckResult, row: int, **fields: object) -> CheckResult:
    steps = list(result.steps)
    steps[row] = replace(steps[row], **fields)  # type: ignore[arg-type]
    return replace(result, steps=tuple(steps))


# --- the steps model --------------------------------------------------------------------------


def test_steps_model_shows_every_step_with_its_connector(qtmodeltester) -> None:
    model = CheckStepsModel(clock=lambda: T0)
    model.set_result(fresh_result(guided=True))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(CheckStep)
    first = [model.index(0, column).data() for column in StepColumn]
    assert first == ["1", "Reserve a free connector", "1", "Pending", "", ""]
    zero_row = [s.step for s in model.result().steps].index(CheckStep.CONNECTOR_ZERO)
    assert model.index(zero_row, StepColumn.CONNECTOR).data() == "station"
    assert model.headerData(StepColumn.VERDICT, Qt.Orientation.Horizontal) == "Verdict"


def test_steps_model_signals_only_the_rows_that_changed(qtmodeltester, qtbot) -> None:
    now = [T0]
    model = CheckStepsModel(clock=lambda: now[0])
    result = fresh_result()
    model.set_result(result)
    qtmodeltester.check(model, force_py=True)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row()))
    )
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    running = with_step(result, 1, verdict=Verdict.RUNNING, started_at=T0)
    model.set_result(running)
    assert changed == [(1, 1)]
    assert model.running_row() == 1
    verdict = model.index(1, StepColumn.VERDICT)
    assert verdict.data() == "Running…"
    assert verdict.data(Qt.ItemDataRole.DecorationRole) is not None
    assert verdict.data(Qt.ItemDataRole.BackgroundRole) is not None

    now[0] = T0 + timedelta(seconds=3)
    changed.clear()
    model.tick()  # the running step's duration moves on
    assert changed == [(1, 1)]
    assert model.index(1, StepColumn.DURATION).data() == "3.0 s"

    reason = "ReserveNow answered Accepted, but no StatusNotification Reserved came\nwithin 10 s"
    failed = with_step(
        running,
        1,
        verdict=Verdict.FAILED,
        reason=reason,
        finished_at=T0 + timedelta(seconds=12),
    )
    changed.clear()
    model.set_result(failed)
    model.set_result(failed)  # the same again: nothing to signal
    assert changed == [(1, 1)]
    assert resets == []
    assert model.index(1, StepColumn.VERDICT).data() == "Failed"
    assert model.index(1, StepColumn.DURATION).data() == "12 s"
    assert model.index(1, StepColumn.REASON).data() == reason.splitlines()[0]
    assert reason in model.index(1, StepColumn.REASON).data(Qt.ItemDataRole.ToolTipRole)
    qtmodeltester.check(model, force_py=True)


def test_steps_model_inserts_added_steps_and_resets_for_another_run(qtmodeltester) -> None:
    model = CheckStepsModel(clock=lambda: T0)
    full = fresh_result()
    model.set_result(replace(full, steps=full.steps[:3]))
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.set_result(full)
    assert inserted == [(3, len(full.steps) - 1)]
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_result(fresh_result(connectors=(2,)))
    assert resets == [True]
    assert model.index(0, StepColumn.CONNECTOR).data() == "2"
    model.set_result(None)
    assert model.rowCount() == 0
    assert model.step(0) is None
    assert not model.index(0, 0, QModelIndex()).isValid()
    qtmodeltester.check(model, force_py=True)


def test_verdict_summary_and_durations() -> None:
    result = fresh_result(guided=True)
    verdicts = [Verdict.PASSED] * 7 + [Verdict.FAILED, Verdict.SKIPPED]
    result = replace(
        result,
        steps=tuple(replace(s, verdict=v) for s, v in zip(result.steps, verdicts, strict=True)),
    )
    assert verdict_summary(result) == "7 passed, 1 failed, 1 skipped"
    assert format_duration(None) == ""
    assert format_duration(0.42) == "0.4 s"
    assert format_duration(125) == "2 min 05 s"
