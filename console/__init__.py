"""OCPP Console: an OCPP 1.6-J Central System console for commissioning EV chargers."""

__version__ = "0.1.0"
