"""Reports for documents: ``archspec check --format markdown|html`` and ``archspec diff``'s
table and Markdown. Everything that comes from a spec (names, descriptions, argument values)
is escaped for the format it lands in; ``text`` holds the escaping and the shared cells."""

from __future__ import annotations


def document(reports: list, fmt: str) -> str:
    """The ``check`` reports as one Markdown text or one self-contained HTML page."""
    if fmt == "markdown":
        from .markdown import check_markdown
        return "\n".join(check_markdown(report) for report in reports)
    if fmt == "html":
        from .html import check_html
        return check_html(reports)
    raise ValueError(f"unknown report format {fmt!r}")
