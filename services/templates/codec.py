"""The stored form of a template version: the resolved PipelineTemplate as canonical JSON.

The body is what a pipeline started on the version receives, so it keeps everything,
resolved calendar dates included. Its canonical text (sorted keys, no spaces) is what the
version's SHA-256 covers.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any

from workflows.pipeline.template import PipelineTemplate

# Points rules added after the first versions were saved; left out of a body while they
# hold their defaults, so the content hash of a version saved before them is unchanged.
_OPTIONAL_ACTION_FIELDS = {
    "points_weight": (1.0,),
    "quality_bonuses": ((), []),
    "milestones": ((), []),
}


def template_body(template: PipelineTemplate) -> dict[str, Any]:
    """The template as plain JSON data (tuples become lists)."""
    body = dataclasses.asdict(template)
    for action in body["actions"]:
        for name, defaults in _OPTIONAL_ACTION_FIELDS.items():
            if name in action and action[name] in defaults:
                del action[name]
    return body


def canonical_json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def template_from_body(body: dict[str, Any]) -> PipelineTemplate:
    """Rebuilds a template from its stored body; fields unknown to this code are ignored,
    fields it has but the body lacks take their defaults (bodies saved by older code)."""
    return _build(PipelineTemplate, body)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, data: dict[str, Any]) -> Any:
    hints = _hints(cls)
    values = {
        field.name: _value(hints[field.name], data[field.name])
        for field in dataclasses.fields(cls)
        if field.name in data
    }
    return cls(**values)


def _value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        return tuple(_value(item_hint, item) for item in value)
    if origin in (typing.Union, types.UnionType):
        return value
    if hint is float and isinstance(value, int):
        return float(value)
    return value
