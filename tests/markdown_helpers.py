"""Reading Markdown back in tests: what a CommonMark renderer with GFM tables sees."""

from __future__ import annotations

from markdown_it import MarkdownIt


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Rows of cell texts of each table a CommonMark + GFM-tables renderer finds."""
    tables, row = [], None
    for token in MarkdownIt("commonmark", {"html": True}).enable("table").parse(text):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
            tables[-1].append(row)
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close":
            row = None
    return tables
