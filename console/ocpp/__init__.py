"""Sans-IO OCPP 1.6-J: payload models, framing and a per-connection session state machine.

No asyncio, no sockets, no Qt and no clock reads here: time is always an argument.
"""
