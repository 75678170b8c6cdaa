"""One problem found in a template file, located by its path in the file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    # Where, in the file's terms: "actions[3].time.escalations[1].to"; "" for the file.
    path: str
    message: str
    # A path whose own problem makes this one a mere consequence (not reported then).
    follows_from: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message
