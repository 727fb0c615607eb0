"""The main window: its layout, menus and remembered geometry."""
