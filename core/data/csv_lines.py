"""A CSV file's data lines, read in bounded memory and time: a regular file of at most a given
size, decoded as UTF-8, blank and comment lines stepped over unkept, each data line checked for
length and invisible characters (its line number named in every error)."""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from core import files
from core.cancel import check as check_cancel

#: Longest data line accepted, in characters (blank and comment lines may be longer).
MAX_LINE_CHARS = 40_000
_CHUNK_CHARS = 2**16
COLUMNS = "3 columns: x1, x2, label"
#: A line whose first non-space character is not ``#``, from its start to its newline.
_MEANINGFUL = re.compile(r"^[^\S\n]*[^\s#][^\n]*", re.MULTILINE)
#: Characters no data line may hold: NUL and other controls (tab aside), invisible formatting
#: characters, and the lone surrogates that stand for bytes that are not UTF-8.
_SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\udc80-\udcff]"
)


def where(path: Path, line: int) -> str:
    """``"data.csv, line 7"``: how messages name a line."""
    return f"{path.name}, line {line}"


class _Capped(io.RawIOBase):
    """A raw file that refuses to deliver more than ``cap`` bytes (a file growing while read)."""

    def __init__(self, raw: io.FileIO, cap: int, path: Path) -> None:
        super().__init__()
        self._raw, self._left, self._cap, self._path = raw, cap, cap, path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        n = self._raw.readinto(buffer)
        self._left -= n or 0
        if self._left < 0:
            raise _too_large(self._path, self._cap)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _too_large(path: Path, cap: int) -> ValueError:
    size = f"{cap:,} bytes" if cap < 2**20 else f"{cap / 2**20:,.4g} MiB"
    return ValueError(f"source: {path.name} is larger than {size}; allowed: files up to {size}")


def open_text(path: Path, max_bytes: int) -> TextIO:
    """Open a regular file of at most ``max_bytes`` as text: UTF-8 with undecodable bytes kept
    as lone surrogates (refused with their line later) and ``\\r``/``\\r\\n`` read as ``\\n``.

    The file is opened without blocking, so a named pipe is refused rather than waited on."""
    try:
        f = files.open_regular(path, buffering=0)
    except files.NotARegularFile as err:
        raise ValueError(f"source: {str(path)!r} is {err.kind}; allowed: a regular file") from None
    except OSError as err:
        raise ValueError(
            f"source: cannot open {str(path)!r} ({err.strerror or err}); allowed: a readable file"
        ) from None
    try:
        if os.fstat(f.fileno()).st_size > max_bytes:
            raise _too_large(path, max_bytes)
        raw = _Capped(f, max_bytes, path)
    except BaseException:
        f.close()
        raise
    buffered = io.BufferedReader(raw, buffer_size=_CHUNK_CHARS)
    return io.TextIOWrapper(buffered, encoding="utf-8", errors="surrogateescape", newline=None)


# -- lines -----------------------------------------------------------------------------------------
def data_lines(text: TextIO, path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line)`` for every line that is neither blank nor a comment.

    The text is read in chunks of :data:`_CHUNK_CHARS`; blank and comment lines are stepped
    over by a regular expression, never kept, so memory is a chunk plus one line whatever the
    file holds. A data line longer than :data:`MAX_LINE_CHARS` is refused."""
    number = 0  # lines completed before the text in hand
    carry = ""  # the start of a line that goes on in the next chunk
    skipping = False  # inside a long comment line that began in an earlier chunk
    start = True
    while chunk := text.read(_CHUNK_CHARS):
        check_cancel()  # the caller's Cancel (core.cancel), between chunks
        if start:
            chunk, start = chunk.removeprefix("\ufeff"), False
        if skipping:
            end = chunk.find("\n")
            if end < 0:
                continue
            chunk, number, skipping = chunk[end + 1 :], number + 1, False
        chunk = carry + chunk
        cut = chunk.rfind("\n") + 1
        body, carry = chunk[:cut], chunk[cut:]
        yield from _body_lines(body, number, path)
        number += body.count("\n")
        if len(carry) > MAX_LINE_CHARS:
            head = carry.lstrip()
            if not head:  # spaces so far: keep just enough to know the line is long
                carry = carry[-MAX_LINE_CHARS - 1 :]
            elif head[0] == "#":
                carry, skipping = "", True
            else:
                _checked(carry, number + 1, path)
    match = _MEANINGFUL.match(carry)
    if match:
        yield number + 1, _checked(match.group(), number + 1, path)


def _body_lines(body: str, number: int, path: Path) -> Iterator[tuple[int, str]]:
    """The data lines of ``body`` (whole lines; ``number`` lines come before it)."""
    if body.isspace():
        return
    if "#" in body or _SUSPECT.search(body):  # a line at a time: comments may hold anything
        pos = 0
        for match in _MEANINGFUL.finditer(body):
            number += body.count("\n", pos, match.start())
            pos = match.start()
            yield number + 1, _checked(match.group(), number + 1, path)
        return
    for offset, line in enumerate(body.split("\n"), number + 1):  # common case: data only
        if line and not line.isspace():
            if len(line) > MAX_LINE_CHARS:
                _checked(line, offset, path)
            yield offset, line


def _checked(line: str, number: int, path: Path) -> str:
    """``line`` if it is short and holds no suspect character; ValueError naming it otherwise."""
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(
            f"source: {where(path, number)} is longer than {MAX_LINE_CHARS:,} characters; "
            f"allowed: short lines with {COLUMNS}"
        )
    found = _SUSPECT.search(line)
    if found is None:
        return line
    char = found.group()
    if char == "\x00":
        raise ValueError(
            f"source: {where(path, number)} holds NUL bytes, so this looks like a binary "
            f"file; allowed: UTF-8 text with {COLUMNS}"
        )
    if "\udc80" <= char <= "\udcff":
        byte = bytes([ord(char) - 0xDC00])
        raise ValueError(
            f"source: {where(path, number)} is not UTF-8 text (byte {byte!r}); "
            f"allowed: UTF-8 text with {COLUMNS}"
        )
    name = unicodedata.name(char, "a control character")
    raise ValueError(
        f"source: {where(path, number)} holds the invisible character U+{ord(char):04X} "
        f"({name.lower()}) at column {found.start() + 1}; allowed: visible text "
        "(a byte-order mark only at the very start of the file)"
    )
