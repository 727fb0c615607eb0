"""The Central System's side of OCPP 2.0.1: answers to a 2.0.1 station's messages
(:mod:`~console.central.v201.responder`) and what the console asks of its device model after
boot (:mod:`~console.central.v201.device_model`). Reservations go through the same book as
1.6 (``console.central.reservation_wire`` spells the 2.0.1 payloads)."""
