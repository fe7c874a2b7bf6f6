"""Gzip data decompressed in pieces, never beyond what the reader asks for."""

from __future__ import annotations

import zlib
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip member."""
READ_CHUNK = 1024 * 1024
"""Most decompressed bytes taken per read."""
_RAW_CHUNK = 64 * 1024


class Gunzip:
    """Decompresses gzip data (one or more members, then perhaps zero bytes of padding) fed in
    pieces; the caller takes the output in pieces of the size it asks for, so nothing is
    decompressed beyond what it needs.

    Damaged data raises ``zlib.error``, and so does :meth:`finish` on data that stops inside a
    member or holds none."""

    def __init__(self) -> None:
        self.size = 0  # decompressed bytes handed out
        self.members = 0
        self._z = zlib.decompressobj(wbits=31)
        self._input = b""
        self._started = False  # the current member has been given input

    def feed(self, data: bytes) -> None:
        self._input = self._input + data if self._input else data

    def read(self, n: int) -> bytes:
        """Up to ``n`` decompressed bytes; ``b""`` when more input is needed."""
        while True:
            if self.members and not self._started:
                self._input = self._input.lstrip(b"\0")  # zero padding, as gzip allows
            self._started = self._started or bool(self._input)
            out = self._z.decompress(self._input, n)
            if self._z.eof:  # end of a member; another may follow
                self.members += 1
                self._input = self._z.unused_data
                self._z = zlib.decompressobj(wbits=31)
                self._started = False
            else:
                self._input = self._z.unconsumed_tail
            if out or not self._input:
                self.size += len(out)
                return out

    def finish(self) -> None:
        """Call when the input has ended: raise unless it ended after a complete member."""
        if self._started or self._input:
            raise zlib.error("gzip data is truncated")
        if self.members == 0:
            raise zlib.error("no gzip data")


class GunzipFile:
    """The decompressed content of a gzip file, for the IDX reader (``read``,
    ``readinto``): decompresses only what is asked for, at most 1 MiB per ``readinto``."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.gunzip = Gunzip()
        self._ended = False

    def read(self, n: int) -> bytes:
        parts = []
        while n > 0:
            out = self.gunzip.read(n)
            if out:
                parts.append(out)
                n -= len(out)
            elif self._ended:
                break
            elif chunk := self.raw.read(_RAW_CHUNK):
                self.gunzip.feed(chunk)
            else:
                self._ended = True
                self.gunzip.finish()
        return b"".join(parts)

    def readinto(self, buffer: memoryview) -> int:
        data = self.read(min(len(buffer), READ_CHUNK))
        buffer[: len(data)] = data
        return len(data)
