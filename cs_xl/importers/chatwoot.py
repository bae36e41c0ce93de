"""Chatwoot conversations export (map: presets/chatwoot.toml)."""
from .generic import preset_reader

read, load = preset_reader("chatwoot")
