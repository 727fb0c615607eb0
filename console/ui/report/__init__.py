"""The commissioning report (PDF)."""
