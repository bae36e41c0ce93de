"""Survey / review exports into the feedback sheet (map: presets/reviews.toml; Olist: presets/olist.toml)."""
from .generic import preset_reader

read, load = preset_reader("reviews")
