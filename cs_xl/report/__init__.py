"""Data set + settings → the report model of every generated sheet.

:mod:`.model` holds the dataclasses (no Excel types), :mod:`.build` the sheet
builders; the names below are the package's public face.
"""
from ..words import SHEET_NAMES, generated_sheet_names, sheet_name
from .build import (build_report, build_report_of, detect_lang, difference, dropped_records, growth, mask_name,
                    meets, metric_label, quality_counts, quality_counts_text, ranks)
from .model import (ChartSpec, ColumnSpec, HeatmapBlock, KpiCard, KpiCards, KpiTiles, Report, SheetModel,
                    TableBlock, TextBlock)

__all__ = ["SHEET_NAMES", "generated_sheet_names", "sheet_name", "build_report", "build_report_of", "detect_lang",
           "difference",
           "dropped_records", "growth", "mask_name", "meets", "metric_label", "quality_counts",
           "quality_counts_text", "ranks", "ChartSpec", "ColumnSpec",
           "HeatmapBlock", "KpiCard", "KpiCards", "KpiTiles", "Report", "SheetModel", "TableBlock", "TextBlock"]
