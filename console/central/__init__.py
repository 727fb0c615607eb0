"""The embedded OCPP 1.6-J Central System (asyncio, websockets, SQLite; no Qt)."""
