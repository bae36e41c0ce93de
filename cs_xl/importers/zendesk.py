"""Zendesk ticket export with ticket-metrics fields (map: presets/zendesk.toml).

Merged tickets (tag ``closed_by_merge``) are excluded and reported; first
reply time is Zendesk's calendar or business-hours field, by the clock mode."""
from .generic import preset_reader

read, load = preset_reader("zendesk")
