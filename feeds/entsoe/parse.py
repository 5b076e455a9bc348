"""Parse ENTSO-E Transparency Platform responses into plain time series.

This module owns the XML: ``Publication_MarketDocument`` (prices, flows,
capacities), ``GL_MarketDocument`` (generation, load) and
``Acknowledgement_MarketDocument`` (errors and "no data"), in every namespace
version (the root's namespace is read, never assumed), zipped or not (every
member of an archive is read, and an Acknowledgement among them is kept), with
or without whitespace or a BOM before ``<?xml``. The client
(:mod:`feeds.entsoe.client`) calls :func:`parse`; :mod:`feeds.entsoe.convert`
turns the result into events and rows. The walk itself is
:mod:`feeds.entsoe.xml_walker`; the result's types are in :mod:`feeds.entsoe.document`,
the time and duration formats in :mod:`feeds.entsoe.times`.

What the format does that a parser must undo:

- A ``Period`` has a ``timeInterval`` and a ``resolution`` (PT15M, PT30M, PT60M,
  …); the point at ``position`` p starts at ``start + (p - 1) × resolution``.
  Everything is UTC, so days of 23/25 hours (92/100 quarters) need no special
  case: the number of positions is the interval over the resolution.
- ``curveType`` A03 ("variable sized block") leaves out a position whose value
  repeats the previous one; the last point holds until the Period ends. A01
  (the default) lists every position, so a missing one is missing data.
- A document may hold several TimeSeries and each several Periods, with gaps
  between them, and different resolutions side by side (the day-ahead switch to
  15-minute MTUs on 2025-10-01).

Bad points never raise: a duplicated, out-of-range, non-numeric or non-finite
point is dropped and described in :attr:`Document.problems`; in an A03 curve the
block such a point would have started stays unknown (NaN) until the next good
point rather than repeating the value before it. Only a body that is
not an ENTSO-E document at all (truncated XML, an HTML error page, a DTD) raises
:class:`ParseError`.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Final

from feeds.entsoe.document import Document, merge
from feeds.entsoe.xml_walker import DocumentWalker

_ZIP_MAGIC: Final = b"PK\x03\x04"
_LEADING: Final = re.compile(rb"^(?:\s|\xef\xbb\xbf)+")  # whitespace and UTF-8 BOMs
_HTML: Final = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?<(!doctype\s+html|html)", re.IGNORECASE)
_TITLE: Final = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class ParseError(ValueError):
    """The body is not an ENTSO-E XML document (truncated, HTML, unknown root)."""


def parse(body: bytes) -> Document:
    """Parse one API response (XML, or a zip archive of XML documents).

    Raises:
        ParseError: the body is not an ENTSO-E document; the message says what
            it looks like instead (HTML page, truncated XML, …).
    """
    if body.startswith(_ZIP_MAGIC):
        return merge([_parse_member(name, member) for name, member in _unzip(body)])
    # expat refuses anything before "<?xml" but one BOM; a stray newline or BOM
    # ahead of the declaration (a proxy, a template) does not make a body truncated.
    leading = _LEADING.match(body)
    if leading:
        body = body[leading.end() :]
    if not body:
        raise ParseError("empty response body")
    if _HTML.match(body):
        title = _TITLE.search(body)
        what = title.group(1).decode("utf-8", "replace").strip() if title else "no title"
        raise ParseError(f"the API answered an HTML page ({what!r}), not an XML document")
    # ENTSO-E never sends a DTD; refusing one rules out entity-expansion bombs.
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ParseError("the response declares a DTD, which ENTSO-E documents never do")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ParseError(f"malformed XML, probably a truncated response ({exc})") from None
    namespace, _, local = (
        root.tag[1:].rpartition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    if not local.endswith("MarketDocument"):
        raise ParseError(f"unexpected root element <{local}>, not an ENTSO-E MarketDocument")
    return DocumentWalker(namespace).document(root, local)


def _parse_member(name: str, body: bytes) -> Document:
    try:
        return parse(body)
    except ParseError as exc:
        raise ParseError(f"zip member {name!r}: {exc}") from None


def _unzip(body: bytes) -> list[tuple[str, bytes]]:
    """Every file of the archive, by name: an Acknowledgement may hide in any of them."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = sorted(info.filename for info in archive.infolist() if not info.is_dir())
            return [(name, archive.read(name)) for name in names]
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ParseError(f"broken zip archive ({exc})") from None
