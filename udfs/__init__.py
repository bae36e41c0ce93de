"""xlwings entry points of cs_xl: the CS_* worksheet functions (cs_udfs)."""
