"""Installation settings from the environment: where the rule tables live and which profile is active."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    profile: str = "telecom"

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``COMPLAINTS_DATA_DIR`` and ``COMPLAINTS_PROFILE`` (telecom or tobacco)."""
        return cls(Path(os.environ.get("COMPLAINTS_DATA_DIR", DEFAULT_DATA_DIR)),
                   os.environ.get("COMPLAINTS_PROFILE", "telecom"))

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
