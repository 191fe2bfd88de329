"""Getting spec bytes off disk or standard input, within bounds, and turning them into text.

A path is only ever a path. It must name a regular file: the type is checked with ``stat``
*before* opening, because opening a FIFO without a writer blocks, and again on the open
descriptor (opened non-blocking) in case the file was swapped in between. Reads stop at the
size limit plus one byte, so ``/dev/zero`` or an endless pipe on stdin costs 5 MB, not all
memory. Bytes that are not UTF-8 and characters a spec may not hold are reported with line and
column, the same for files and stdin.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import sys
from typing import Callable

from ..errors import Diagnostic, Location, SpecError
from ..limits import MAX_SPEC_BYTES

# YAML's printable set (tab, line breaks, NEL and the BOM allowed), which JSON text also obeys
# outside strings; lone surrogates are not Unicode text and cannot be written back out.
BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff"
                           "\ufffe\uffff]")
TEXT_HINT = ("a path is always read as a file name; give spec text through '-' (standard "
             "input), or in Python through archspec.loads(text)")


def display_name(source: object) -> str:
    """How a path appears in messages: as given when it is short and printable."""
    text = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    if len(text) <= 200 and text.isprintable():
        return text
    shown = ascii(text)
    return shown if len(shown) <= 80 else shown[:76] + "...'"


def _fail(file: str, message: str, hint: str | None = None, line: int | None = None,
          column: int | None = None) -> SpecError:
    return SpecError([Diagnostic(message, location=Location(file, line, column), hint=hint)])


def read_source(source: str | os.PathLike) -> tuple[str, str]:
    """(text, display name) of a path, or of standard input for ``"-"``."""
    if isinstance(source, str) and source == "-":
        return read_stdin(), "<stdin>"
    file = display_name(source)
    hint = TEXT_HINT if isinstance(source, str) and ("\n" in source or
                                                     source.lstrip().startswith("{")) else None
    return decode(read_file(source, file, hint), file), file


def read_file(path: str | os.PathLike, file: str, hint: str | None = None) -> bytes:
    """The bytes of a regular file, refusing anything else and anything over the limit."""
    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL
        raise _fail(file, f"cannot read spec file: {_reason(exc)}", hint) from None
    if not stat.S_ISREG(info.st_mode):
        raise _fail(file, f"cannot read spec file: it is {_kind(info.st_mode)}, not a regular "
                          "file", "name a .yaml or .json file; use '-' for standard input")
    _check_size(info.st_size, file)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(file, f"cannot read spec file: {_reason(exc)}", hint) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced after the first look
            raise _fail(file, "cannot read spec file: it is no longer a regular file")
        return _read_bounded(lambda n: os.read(fd, n), file)
    except OSError as exc:
        raise _fail(file, f"cannot read spec file: {_reason(exc)}") from None
    finally:
        os.close(fd)


def read_stdin() -> str:
    stream = sys.stdin
    if stream is None:
        raise _fail("<stdin>", "there is no standard input to read the spec from")
    binary = getattr(stream, "buffer", None)
    if binary is None:  # a text stream put in place by a caller (tests, notebooks)
        text = stream.read(MAX_SPEC_BYTES + 1)
        _check_size(len(text), "<stdin>", "characters")
        return check_characters(text, "<stdin>")
    return decode(_read_bounded(binary.read, "<stdin>"), "<stdin>")


def _read_bounded(read: Callable[[int], bytes], file: str) -> bytes:
    chunks, total = [], 0
    while total <= MAX_SPEC_BYTES:
        chunk = read(min(1 << 20, MAX_SPEC_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    _check_size(total, file)
    return b"".join(chunks)


def _check_size(size: int, file: str, unit: str = "bytes") -> None:
    if size > MAX_SPEC_BYTES:
        raise _fail(file, f"the spec is larger than the limit of {MAX_SPEC_BYTES:,} {unit}",
                    "split it with 'extends', or use blocks and repeat instead of copies")


def decode(data: bytes, file: str) -> str:
    """UTF-8 (or UTF-16 with its byte-order mark) to text, checked for forbidden characters."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        bad = data[exc.start:exc.start + 1].hex()
        raise _fail(file, f"the spec is not valid {encoding.upper()} text: byte 0x{bad} "
                          f"({exc.reason})", f"save the file as {encoding.upper()}",
                    line, column) from None
    return check_characters(text, file)


def check_characters(text: str, file: str) -> str:
    found = BAD_CHARACTER.search(text)
    if found:
        line, column = text_position(text, found.start())
        raise _fail(file, f"the spec contains {describe_character(found.group())}",
                    "specs are plain text: remove it (editors may show it as nothing, ^@ or "
                    "a box)", line, column)
    return text


def describe_character(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate U+{code:04X}, which is not a Unicode character"
    if code in (0xFFFE, 0xFFFF):
        return f"the non-character U+{code:04X}"
    return f"the control character U+{code:04X}" + (" (NUL)" if code == 0 else "")


def text_position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of a character index."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _byte_position(data: bytes, index: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, index) + 1
    column = len(data[line_start:index].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, index) + 1, column


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValueError):
        return "the path contains a NUL character"
    return exc.strerror or type(exc).__name__


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"
