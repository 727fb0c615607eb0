"""PySide6 widgets and item models of the console window."""
