"""The feature table of each OCPP version: what a connection of that version can say."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from console.ocpp import features as v16_features
from console.ocpp.feature_table import FeatureTable
from console.ocpp.v201 import features as v201_features
from console.ocpp.versions import OcppVersion

__all__ = ["FEATURE_TABLES", "feature_table"]

FEATURE_TABLES: Mapping[OcppVersion, FeatureTable] = MappingProxyType(
    {OcppVersion.V16: v16_features.TABLE, OcppVersion.V201: v201_features.TABLE}
)


def feature_table(version: OcppVersion) -> FeatureTable:
    """The feature table of ``version``."""
    return FEATURE_TABLES[version]
