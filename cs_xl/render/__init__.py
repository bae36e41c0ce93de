"""Report model → sheets: :mod:`.layout` decides every cell once (pure data), writers translate it
(:mod:`.xlsx` for openpyxl; the OOXML part writer and the live xlwings writer next)."""
