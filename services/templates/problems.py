"""One problem found in a template file, located by its path in the file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    # Where, in the file's terms: "actions[3].time.escalations[1].to"; "" for the file.
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message
