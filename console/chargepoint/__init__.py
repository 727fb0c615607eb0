"""The station side: reservation engine, OCPP-J client and a site simulator (no Qt)."""
