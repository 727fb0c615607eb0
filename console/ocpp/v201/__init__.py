"""OCPP 2.0.1 payload models and feature table, beside the 1.6 ones in ``console.ocpp``.

The framing (``console.ocpp.frames``) and the connection's state machine
(``console.ocpp.session``, with ``version=OcppVersion.V201``) are shared by both versions.

``enums`` and ``types`` hold the schemas' enumerations and shared objects (``IdToken``,
``EVSE``, ``StatusInfo``, ``Component``, ``Variable``, ...); ``reservation`` functional block
H; ``device_model`` the variables, reports and events; ``messages`` the rest a commissioned
station exchanges; ``charging`` the charging profiles; ``features`` the table of them all.
"""
