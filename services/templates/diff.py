"""What changed between two templates, per action and field, in the file's own terms.

Both sides are compared as the file a person edits (yaml_format.template_document), so a
difference reads the way the file is written: `action objection_handling: time.due_hours
48 -> 24`. Resolved holiday dates are not compared; they follow from the calendars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.templates.yaml_format import template_document
from workflows.pipeline.template import PipelineTemplate

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
# The field that identifies an item of a list of mappings, so items are matched by it.
IDENTITY_FIELDS = ("key", "kind", "department", "id")


@dataclass(frozen=True)
class Change:
    kind: str
    scope: str  # "template", "calendar <id>", "action <key>" or "order"
    field: str
    before: str = ""
    after: str = ""

    def line(self) -> str:
        where = f"{self.scope}: {self.field}" if self.field else self.scope
        if self.kind == ADDED:
            return f"+ {where} = {self.after}" if self.field else f"+ {where} {self.after}".rstrip()
        if self.kind == REMOVED:
            return f"- {where} (was {self.before})" if self.field else f"- {where}"
        separator = " " if self.field else ": "
        return f"~ {where}{separator}{self.before} -> {self.after}"


def diff_templates(before: PipelineTemplate, after: PipelineTemplate) -> list[Change]:
    """Every difference, template fields first, then calendars, actions and their order."""
    old, new = template_document(before), template_document(after)
    changes: list[Change] = []

    old_fields = _flatten({k: v for k, v in old.items() if k not in ("calendars", "actions")})
    new_fields = _flatten({k: v for k, v in new.items() if k not in ("calendars", "actions")})
    changes += _compare("template", old_fields, new_fields)

    changes += _compare_items("calendar", old["calendars"], new["calendars"], "id")

    old_actions = {action["key"]: action for action in old["actions"]}
    new_actions = {action["key"]: action for action in new["actions"]}
    for position, (key, action) in enumerate(new_actions.items(), start=1):
        if key not in old_actions:
            names = f"{action['name']} / {action['name_zh']}"
            changes.append(
                Change(ADDED, f"action {key}", "", after=f"({names}) at step {position}")
            )
    for key in old_actions:
        if key not in new_actions:
            changes.append(Change(REMOVED, f"action {key}", ""))
    for key, action in new_actions.items():
        if key in old_actions:
            changes += _compare(f"action {key}", _flatten(old_actions[key]), _flatten(action))

    kept_before = [key for key in old_actions if key in new_actions]
    kept_after = [key for key in new_actions if key in old_actions]
    if kept_before != kept_after:
        changes.append(Change(CHANGED, "order", "", " ".join(kept_before), " ".join(kept_after)))
    return changes


def _compare_items(scope: str, old: list[dict], new: list[dict], identity: str) -> list[Change]:
    old_items = {item[identity]: item for item in old}
    new_items = {item[identity]: item for item in new}
    changes = []
    for name in new_items:
        if name not in old_items:
            changes.append(Change(ADDED, f"{scope} {name}", ""))
    for name in old_items:
        if name not in new_items:
            changes.append(Change(REMOVED, f"{scope} {name}", ""))
        else:
            changes += _compare(
                f"{scope} {name}", _flatten(old_items[name]), _flatten(new_items[name])
            )
    return changes


def _compare(scope: str, old: dict[str, str], new: dict[str, str]) -> list[Change]:
    changes = []
    for field, value in new.items():
        if field not in old:
            changes.append(Change(ADDED, scope, field, after=value))
        elif old[field] != value:
            changes.append(Change(CHANGED, scope, field, before=old[field], after=value))
    for field, value in old.items():
        if field not in new:
            changes.append(Change(REMOVED, scope, field, before=value))
    return changes


def _flatten(document: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested fields as dotted paths; list items matched by their identifying field."""
    flat: dict[str, str] = {}
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, item in enumerate(value):
                identity = next((item[f] for f in IDENTITY_FIELDS if f in item), index)
                flat.update(_flatten(item, f"{path}[{identity}]."))
        else:
            flat[path] = _render(value)
    return flat


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)
