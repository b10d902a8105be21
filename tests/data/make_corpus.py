"""Regenerate the corpus files whose exact bytes matter: encodings, line ends, binary formats.

Run from anywhere: ``python tests/data/make_corpus.py``. The output is deterministic
(fixed seeds, fixed timestamps), so rerunning it leaves the files unchanged. The plain
UTF-8 corpus files are kept as they are and not written here.
"""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A fixed timestamp keeps the ZIP bytes identical between runs.
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)

_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
    "xl/worksheets/sheet1.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>y</t></is></c></row>'
        '<row r="2"><c r="A2"><v>1.5</v></c><c r="B2"><v>2</v></c></row>'
        '<row r="3"><c r="A3"><v>3.5</v></c><c r="B3"><v>4</v></c></row>'
        "</sheetData></worksheet>"
    ),
}

SMALL_CSV = "x,y\n1.5,2\n3.5,4\n"


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), text)
    return buffer.getvalue()


def corpus() -> dict[str, bytes]:
    """File name -> exact bytes of every generated corpus file."""
    return {
        # A real (minimal) .xlsx workbook that someone renamed to .csv.
        "excel_renamed.csv": _zip(_XLSX_PARTS),
        "zip_archive.csv": _zip({"data.csv": SMALL_CSV}),
        "gzip.csv": gzip.compress(SMALL_CSV.encode(), mtime=0),
        "random_bytes.csv": random.Random(0).randbytes(4096),
        # Excel's "Unicode Text": UTF-16 little-endian with a BOM, tab-separated.
        "utf16.csv": "x\ty\r\n1.5\t2\r\n3.5\t4\r\n".encode("utf-16"),
        "utf16_be.csv": b"\xfe\xff" + "x,y\n1.5,2\n3.5,4\n".encode("utf-16-be"),
        # Excel on Windows in a French or German locale: cp1252, ';' and decimal commas.
        "cp1252_headers.csv": "Température;Größe\n12,5;180\n-3,25;175,5\n20;190\n".encode("cp1252"),
        "utf8_bom.csv": "\ufeffx,y\n1.5,2\n3.5,4\n".encode(),
        "crlf.csv": b"x,y\r\n1.5,2\r\n3.5,4\r\n\r\n",
        "cr_only.csv": b"x,y\r1.5,2\r3.5,4\r",
    }


def main() -> None:
    for name, data in corpus().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
