"""Freshdesk ticket export (map: presets/freshdesk.toml)."""
from .generic import preset_reader

read, load = preset_reader("freshdesk")
