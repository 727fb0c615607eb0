"""The report's pages: laid out on A4 landscape, each heading kept with the lines it heads,
printed with "Page N of M" at the foot of every page (Qt's :class:`QPdfWriter`)."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPalette,
    QPdfWriter,
    QTextBlock,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

from console import __version__

__all__ = [
    "FOOTER_HEIGHT",
    "PAGE_LAYOUT",
    "keep_headings_with_their_lines",
    "laid_out",
    "write_pdf",
]

PAGE_LAYOUT = QPageLayout(
    QPageSize(QPageSize.PageSizeId.A4),
    QPageLayout.Orientation.Landscape,
    QMarginsF(12, 12, 12, 12),
    QPageLayout.Unit.Millimeter,
)
"""A4 landscape: the reservation table's eleven columns need the width."""

FOOTER_HEIGHT = 18.0
"""Points kept free at the foot of each page for its number."""

LINES_KEPT_WITH_A_HEADING = 4
"""A heading starts a new page unless this many of its lines (table rows) fit under it:
enough for a line of text, a table's header and its first rows."""

_BREAK_BEFORE = QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore
_PASSES_AT_MOST = 20
"""A bound on the layouts a report takes (one pass moves a heading in every stretch)."""


def laid_out(document_html: str, images: dict[str, QImage] | None = None) -> QTextDocument:
    """The report laid out on the PDF's pages (tests measure its tables through this).

    ``images``: the pictures the HTML refers to by name. Headings that would end a page
    start the next one (:func:`keep_headings_with_their_lines`).
    """
    document = QTextDocument()
    for name, image in (images or {}).items():
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    document.setHtml(document_html)
    # Lay out at the page's size in points; the printing scales it to the page.
    page = PAGE_LAYOUT.paintRect(QPageLayout.Unit.Point)
    document.setPageSize(QSizeF(page.width(), page.height() - FOOTER_HEIGHT))
    keep_headings_with_their_lines(document)
    return document


def _lines_under(block: QTextBlock, layout: QAbstractTextDocumentLayout, count: int) -> float:
    """The bottom of the first ``count`` lines (a table row is one) after ``block``, or of
    what there is before the next heading."""
    bottom = layout.blockBoundingRect(block).bottom()
    tops: set[float] = set()
    follower = block.next()
    while follower.isValid() and follower.blockFormat().headingLevel() == 0:
        if follower.text().strip():
            rect = layout.blockBoundingRect(follower)
            tops.add(round(rect.top()))
            if len(tops) > count:
                break
            bottom = max(bottom, rect.bottom())
        follower = follower.next()
    return bottom


def keep_headings_with_their_lines(
    document: QTextDocument, lines: int = LINES_KEPT_WITH_A_HEADING
) -> int:
    """Move each heading that would be alone at the foot of a page to the next page.

    Qt's rich text knows ``page-break-before`` but not "keep with next", so the document is
    laid out, a heading whose first ``lines`` do not fit on its page gets a page break, and it
    is laid out again. A page break starts a stretch whose layout nothing before it changes
    (but for whole pages), so one pass moves the first such heading of every stretch.
    Returns how many headings moved.
    """
    height = document.pageSize().height()
    if not math.isfinite(height) or height <= 0:
        return 0
    layout = document.documentLayout()
    moved = 0
    for _ in range(_PASSES_AT_MOST):
        found: list[QTextBlock] = []
        settled = True  # the stretch's layout holds (no heading moved in it yet)
        block = document.begin()
        while block.isValid():
            block_format = block.blockFormat()
            if block_format.pageBreakPolicy() & _BREAK_BEFORE:
                settled = True
            elif settled and block_format.headingLevel() > 0:
                page = math.floor(layout.blockBoundingRect(block).top() / height)
                # A hair's tolerance: a line may end exactly on the page's edge.
                if page != math.floor((_lines_under(block, layout, lines) - 0.5) / height):
                    found.append(block)
                    settled = False
            block = block.next()
        if not found:
            break
        # One edit: each change alone would lay the rest of the document out again.
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        for block in found:
            block_format = block.blockFormat()
            block_format.setPageBreakPolicy(_BREAK_BEFORE)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(block_format)
        cursor.endEditBlock()
        # Laid out again from each change on, some blocks were then not drawn at all: lay
        # the whole document out afresh.
        document.markContentsDirty(0, document.characterCount())
        moved += len(found)
    return moved


def write_pdf(document_html: str, path: Path, images: dict[str, QImage] | None = None) -> None:
    """Lay the HTML out on A4 pages and write the PDF (creating its folder if need be).

    Raises ``OSError`` when the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise OSError(f"{path} is a folder")
    document = laid_out(document_html, images)
    writer = QPdfWriter(str(path))
    writer.setTitle("OCPP Console commissioning report")
    writer.setCreator(f"OCPP Console {__version__}")
    writer.setResolution(300)
    writer.setPageLayout(PAGE_LAYOUT)
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"could not write {path}")
    try:
        _print_pages(document, writer, painter)
    finally:
        painter.end()
    if not path.is_file():
        raise OSError(f"could not write {path}")


def _print_pages(document: QTextDocument, writer: QPdfWriter, painter: QPainter) -> None:
    body = document.pageSize()
    # Document units (points of the page) to the writer's pixels.
    scale = writer.width() / body.width()
    pages = document.pageCount()
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette.setColor(QPalette.ColorRole.Text, QColor("#1b1f24"))
    footer_font = QFont(document.defaultFont())
    footer_font.setPointSizeF(8)
    for number in range(pages):
        if number:
            writer.newPage()
        painter.save()
        painter.scale(scale, scale)
        view = QRectF(0, number * body.height(), body.width(), body.height())
        painter.translate(0, -view.top())
        painter.setClipRect(view)
        context.clip = view
        document.documentLayout().draw(painter, context)
        painter.restore()
        # The footer in the writer's own pixels, so its font prints at its point size.
        painter.save()
        painter.setFont(footer_font)
        painter.setPen(QColor("#5f6670"))
        foot = QRectF(0, body.height() * scale, body.width() * scale, FOOTER_HEIGHT * scale)
        painter.drawLine(foot.topLeft(), foot.topRight())
        text_area = foot.adjusted(0, foot.height() * 0.2, 0, 0)
        painter.drawText(
            text_area,
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            f"Page {number + 1} of {pages}",
        )
        painter.drawText(
            text_area,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            document.metaInformation(QTextDocument.MetaInformation.DocumentTitle),
        )
        painter.restore()
