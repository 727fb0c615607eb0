"""Sans-IO OCPP-J, versions 1.6 and 2.0.1: framing, a per-connection session state machine, and
per version the payload models, feature table and official JSON schemas.

1.6: ``messages``, ``reservation``, ``features``; 2.0.1: the ``v201`` package. Shared:
``frames``, ``session``, ``errors``, ``schema``, ``versions``, ``tables``.

No asyncio, no sockets, no Qt and no clock reads here: time is always an argument.
"""
