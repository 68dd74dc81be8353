"""Installation settings, read from the environment once at each edge (web app, CLI, scheduler) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Settings:
    """Where the rule tables live, which profile is active, and (tests of several processes) a clock offset file."""

    data_dir: Path = DEFAULT_DATA_DIR
    profile: str = "telecom"
    clock_file: Path | None = None      # holds seconds added to the system clock; every process reading it agrees

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``COMPLAINTS_DATA_DIR``, ``COMPLAINTS_PROFILE`` (telecom or tobacco) and ``COMPLAINTS_CLOCK_FILE``."""
        clock_file = os.environ.get("COMPLAINTS_CLOCK_FILE")
        return cls(Path(os.environ.get("COMPLAINTS_DATA_DIR", DEFAULT_DATA_DIR)),
                   os.environ.get("COMPLAINTS_PROFILE", "telecom"), Path(clock_file) if clock_file else None)

    def path(self, name: str) -> Path:
        """Return a rule file: the active profile's copy if it has one, else the shared one."""
        own = self.data_dir / "profiles" / self.profile / name
        return own if own.exists() else self.data_dir / name


class RuleFile:
    """A rule table read from a file and read again when the file changes (no restart, no code change)."""

    def __init__(self, path: Path, load: Callable[[Path], Any]):
        self.path, self._load = path, load
        self._stamp: tuple[int, int] | None = None
        self._value: Any = None

    def get(self) -> Any:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._value, self._stamp = self._load(self.path), stamp
        return self._value
