"""The OCPP 2.0.1 station client, driven by the 2.0.1 reservation engine.

:class:`StationClient201` speaks OCPP-J 2.0.1 (subprotocol ``ocpp2.0.1``) to any CSMS over
the connection loop every station client shares
(:class:`~console.chargepoint.base_client.BaseStationClient`). Its parts: the client and
its own calls (:mod:`.client`), its answers to the CSMS's calls (:mod:`.answers`), its
device model (:mod:`.device_model`, :mod:`.variables`), its transactions
(:mod:`.transactions`), and the one place where the engine's values meet the payload
models (:mod:`.mapping`).
"""

from console.chargepoint.client201.client import ChargingOutcome201, StationClient201

__all__ = ["ChargingOutcome201", "StationClient201"]
