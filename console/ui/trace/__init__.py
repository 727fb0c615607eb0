"""The message trace: its model, panel, tools and exports."""
