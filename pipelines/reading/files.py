"""Reading an input file's text, with the errors every reader shares."""

from __future__ import annotations

import os
from pathlib import Path

from medkg.errors import InputError


def read_text(path: Path) -> str:
    """The file as UTF-8 text (a byte-order mark is dropped), or an ``InputError`` that names it and says why.

    A NUL byte is refused: no text format medkg reads holds one, and a file with NULs is binary or UTF-16.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise InputError(f"{path}: file not found") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: is a directory, expected a file") from e
    except UnicodeDecodeError as e:
        if bytes(e.object[:2]) in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError(f"{path}: UTF-16 text, not UTF-8; convert it, e.g. iconv -f utf-16 -t utf-8") from e
        raise InputError(
            f"{path}: not valid UTF-8 (byte {e.start}: {e.reason}); convert it, e.g. iconv -f latin1 -t utf-8"
        ) from e
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from e
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise InputError(f"{path}: holds a NUL byte (line {line}); a binary file, or UTF-16 text (convert it to "
                         "UTF-8, e.g. iconv -f utf-16 -t utf-8)")
    return text


def missing(path: Path) -> str | None:
    """Why an input path given on the command line cannot be used (``None`` when it can)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "broken symbolic link" if path.is_symlink() else "file not found"
    except OSError as e:
        return f"cannot read ({e.strerror or e})"
    return None
