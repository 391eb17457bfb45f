"""Saving a workbook so the same contents give the same bytes: fixed document times and zip
entry times (openpyxl's own save would stamp "now"); and chart parts every client reads."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

from openpyxl import LXML, Workbook
from openpyxl.writer.excel import ExcelWriter

FIXED_TIMESTAMP = dt.datetime(2000, 1, 1)
"""Written as the workbook's created/modified time and every zip entry's time, so two writes of
the same plan are byte-identical (a planner can hash a plan, and diffs show only real changes)."""


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps in the document properties and the zip entries."""
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP
    wb.properties.creator = "stockpile"
    wb.security = None  # an empty workbookProtection element is one Gnumeric does not know
    with _FixedTimeZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()  # openpyxl's save_workbook would stamp "now" as modified


class _FixedTimeZipFile(zipfile.ZipFile):
    """A zip file whose entries all carry FIXED_TIMESTAMP instead of the time of writing."""

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):
        if isinstance(zinfo_or_arcname, str):
            if LXML and zinfo_or_arcname.startswith(DRAWING_PARTS):
                data = namespaces_at_root(data)
            zinfo_or_arcname = self._entry(zinfo_or_arcname)
        return super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        """A file written whole (a streamed sheet's XML, which can be hundreds of MB): copied in
        chunks rather than read into memory."""
        info = self._entry(arcname or Path(filename).name)
        info.file_size = os.path.getsize(filename)  # so a part over 2 GiB gets its zip64 header
        with open(filename, "rb") as source, self.open(info, "w") as entry:
            shutil.copyfileobj(source, entry, COPY_CHUNK)

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP.timetuple()[:6])
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        return info


COPY_CHUNK = 1 << 20


DRAWING_PARTS = ("xl/drawings/drawing", "xl/charts/chart")
"""The parts holding DrawingML (a sheet's chart anchors, each chart)."""


def namespaces_at_root(xml: bytes | str) -> bytes:
    """The XML with every namespace declared on its root element. openpyxl serialising with lxml
    declares a prefix where it is first used (``<a:graphic xmlns:a=...>``), as XML allows;
    Gnumeric reads DrawingML prefixes only when the root declares them, and drops every chart of
    a workbook otherwise."""
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    declared: dict[str | None, str] = {}
    for element in root.iter():
        for prefix, uri in element.nsmap.items():
            declared.setdefault(prefix, uri)
    etree.cleanup_namespaces(root, top_nsmap=declared)
    return etree.tostring(root)
