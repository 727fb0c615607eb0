"""OCPP 2.0.1 charging profiles, as RequestStartTransaction may carry one.

The console does not do smart charging; these exist so that such a request, from the console
or from a Central System the console stands in for, is read whole and checked.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from console.ocpp.base import Integer, NonNegativeInteger, Number
from console.ocpp.dates import OcppDateTime
from console.ocpp.v201.enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    CostKind,
    RecurrencyKind,
)
from console.ocpp.v201.types import String32, String36, V201Model

__all__ = [
    "ChargingProfile",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "ConsumptionCost",
    "Cost",
    "RelativeTimeInterval",
    "SalesTariff",
    "SalesTariffEntry",
]


class Cost(V201Model):
    """A cost of one kind, ``amount`` times ten to the ``amountMultiplier``."""

    cost_kind: CostKind
    amount: Integer
    amount_multiplier: Integer | None = None


class ConsumptionCost(V201Model):
    """The costs from a consumption value on."""

    start_value: Number
    cost: Annotated[list[Cost], Field(min_length=1, max_length=3)]


class RelativeTimeInterval(V201Model):
    """An interval in seconds from the start of a schedule."""

    start: Integer
    duration: Integer | None = None


class SalesTariffEntry(V201Model):
    """One interval of a sales tariff, with its price level and costs."""

    relative_time_interval: RelativeTimeInterval
    e_price_level: NonNegativeInteger | None = None
    consumption_cost: Annotated[list[ConsumptionCost], Field(min_length=1, max_length=3)] | None = (
        None
    )


class SalesTariff(V201Model):
    """An ISO 15118 sales tariff."""

    id: Integer
    sales_tariff_description: String32 | None = None
    num_e_price_levels: Integer | None = None
    sales_tariff_entry: Annotated[list[SalesTariffEntry], Field(min_length=1, max_length=1024)]


class ChargingSchedulePeriod(V201Model):
    """A limit from ``startPeriod`` seconds on."""

    start_period: Integer
    limit: Number
    number_phases: Integer | None = None
    phase_to_use: Integer | None = None


class ChargingSchedule(V201Model):
    """Limits over time, in amperes or watts."""

    id: Integer
    start_schedule: OcppDateTime | None = None
    duration: Integer | None = None
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: Annotated[
        list[ChargingSchedulePeriod], Field(min_length=1, max_length=1024)
    ]
    min_charging_rate: Number | None = None
    sales_tariff: SalesTariff | None = None


class ChargingProfile(V201Model):
    """A charging profile: its purpose, stack level, and up to three schedules."""

    id: Integer
    stack_level: Integer
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: ChargingProfileKind
    recurrency_kind: RecurrencyKind | None = None
    valid_from: OcppDateTime | None = None
    valid_to: OcppDateTime | None = None
    charging_schedule: Annotated[list[ChargingSchedule], Field(min_length=1, max_length=3)]
    transaction_id: String36 | None = None
