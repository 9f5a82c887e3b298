"""Reading an input file's text, with the errors every reader shares."""

from __future__ import annotations

from pathlib import Path

from medkg.errors import InputError


def read_text(path: Path) -> str:
    """The file as UTF-8 text (a byte-order mark is dropped), or an ``InputError`` that names it and says why."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise InputError(f"{path}: file not found") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: is a directory, expected a file") from e
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not valid UTF-8 (byte {e.start}: {e.reason}); convert it, e.g. iconv -f latin1 -t utf-8"
        ) from e
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from e
