"""The five public data sets of ``../shared/realdata`` and the product's
importer + map (preset) that reads each one.

The mappings used to live here in pandas; they are now presets of
``cs_xl/importers/presets`` (issue 11), so the tests exercise the product's
own importer.  The reference values in ``test_realdata.py`` are still
computed from the raw files with the standard ``csv`` module, independently
of the importers.  The raw files are never copied or modified.

Interpretations (stated in each preset):

* technion (``calls``): PHANTOM calls dropped; HANG calls that never joined
  the queue ended in the IVR (self-served), HANG calls in the queue are
  abandoned; wait = q_time; handle = ser_time.
* servicenow (``generic`` + servicenow): one record per incident (its last
  row); no first-response stamp, so resolution runs from opened_at (proxy);
  first contact = never reassigned and never reopened.
* helpdesk (``eventlog`` + helpdesk): first response = first "Take in charge
  ticket", resolved = first "Resolve ticket" at or after it; exact duplicate
  events dropped and reported.
* bpi2013 (``eventlog`` + vinst): resolved at the first Completed/Resolved
  or Completed/In Call, from the first event; first contact = solved and
  never at L2/L3.
* olist (``reviews`` + olist): review_score is the 1–5 rating.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# CS_XL_REALDATA points elsewhere (tests/test_ci.py points it at a missing folder)
REALDATA = Path(os.environ.get("CS_XL_REALDATA") or Path(__file__).resolve().parents[2] / "shared" / "realdata")


@dataclass(frozen=True)
class RealSource:
    """One raw file of ``../shared/realdata`` and the importer that reads it."""
    name: str
    folder: str
    filename: str
    table: str
    format: str          # cs-xl import FORMAT
    preset: str | None   # --map PRESET (None: the format's own map)

    @property
    def path(self) -> Path:
        return REALDATA / self.folder / self.filename

    def available(self) -> bool:
        return self.path.is_file()

    def cli_args(self) -> list[str]:
        """``FORMAT SRC [--map PRESET]`` of ``cs-xl import``."""
        return [self.format, str(self.path), *(["--map", self.preset] if self.preset else [])]

    def run(self):
        """The product's import of the raw file (an ``Imported``)."""
        from cs_xl import importers
        return importers.run(self.format, [self.path], self.preset)


SOURCES: dict[str, RealSource] = {s.name: s for s in (
    RealSource("technion", "technion_callcenter_feb1999", "data_anonymous_bank_february.txt",
               "calls", "calls", None),
    RealSource("servicenow", "servicenow_incident_log", "incident_event_log_2016-02-29_to_2016-03-20.csv",
               "tickets", "generic", "servicenow"),
    RealSource("helpdesk", "helpdesk_italian_eventlog", "helpdesk.csv", "tickets", "eventlog", "helpdesk"),
    RealSource("bpi2013", "bpi2013_volvo_incidents", "VINST-new.csv", "tickets", "eventlog", "vinst"),
    RealSource("olist", "olist_classified_reviews", "olist_classified_public_dataset.csv",
               "feedback", "reviews", "olist"),
)}
