"""The reservation check: the dialog, the checks panel, steps and timeline."""
