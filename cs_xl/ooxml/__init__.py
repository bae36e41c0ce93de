"""The parts of an .xlsx/.xlsm package, one module per part (in the manner of XlsxWriter's
modules): :mod:`package` (the zip: read, raw copy, write), :mod:`relationships` (``*.rels``),
:mod:`content_types` (``[Content_Types].xml``), :mod:`workbook` (``xl/workbook.xml``: the sheet
list, defined names, the active tab), :mod:`styles` (``xl/styles.xml``: styles appended, never
renumbered), :mod:`worksheet` (a generated sheet's XML) and :mod:`drawing` (a sheet's chart anchors).

Existing parts are parsed with defusedxml and edited as text where they change, so every byte
the edit does not concern stays as it was (Excel's namespace declarations, mc:Ignorable lists,
extension lists).  Nothing here imports openpyxl.
"""
