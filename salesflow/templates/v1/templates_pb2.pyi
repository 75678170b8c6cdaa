import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TemplateProblem(_message.Message):
    __slots__ = ("path", "message")
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    path: str
    message: str
    def __init__(self, path: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TemplateRejection(_message.Message):
    __slots__ = ("template_id", "problems")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    problems: _containers.RepeatedCompositeFieldContainer[TemplateProblem]
    def __init__(self, template_id: _Optional[str] = ..., problems: _Optional[_Iterable[_Union[TemplateProblem, _Mapping]]] = ...) -> None: ...

class ValidateTemplateRequest(_message.Message):
    __slots__ = ("yaml",)
    YAML_FIELD_NUMBER: _ClassVar[int]
    yaml: str
    def __init__(self, yaml: _Optional[str] = ...) -> None: ...

class ValidateTemplateResponse(_message.Message):
    __slots__ = ("valid", "problems", "template_id", "action_keys")
    VALID_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEYS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    problems: _containers.RepeatedCompositeFieldContainer[TemplateProblem]
    template_id: str
    action_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., problems: _Optional[_Iterable[_Union[TemplateProblem, _Mapping]]] = ..., template_id: _Optional[str] = ..., action_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportTemplateRequest(_message.Message):
    __slots__ = ("yaml", "comment")
    YAML_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    yaml: str
    comment: str
    def __init__(self, yaml: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class ImportTemplateResponse(_message.Message):
    __slots__ = ("version", "created", "calendars")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CALENDARS_FIELD_NUMBER: _ClassVar[int]
    version: TemplateVersion
    created: bool
    calendars: _containers.RepeatedCompositeFieldContainer[CalendarCoverage]
    def __init__(self, version: _Optional[_Union[TemplateVersion, _Mapping]] = ..., created: _Optional[bool] = ..., calendars: _Optional[_Iterable[_Union[CalendarCoverage, _Mapping]]] = ...) -> None: ...

class CalendarCoverage(_message.Message):
    __slots__ = ("calendar_id", "country", "resolved_years", "years_without_makeup_workdays", "holidays_version")
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_YEARS_FIELD_NUMBER: _ClassVar[int]
    YEARS_WITHOUT_MAKEUP_WORKDAYS_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_VERSION_FIELD_NUMBER: _ClassVar[int]
    calendar_id: str
    country: str
    resolved_years: _containers.RepeatedScalarFieldContainer[int]
    years_without_makeup_workdays: _containers.RepeatedScalarFieldContainer[int]
    holidays_version: str
    def __init__(self, calendar_id: _Optional[str] = ..., country: _Optional[str] = ..., resolved_years: _Optional[_Iterable[int]] = ..., years_without_makeup_workdays: _Optional[_Iterable[int]] = ..., holidays_version: _Optional[str] = ...) -> None: ...

class ExportTemplateRequest(_message.Message):
    __slots__ = ("template_id", "version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: int
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ExportTemplateResponse(_message.Message):
    __slots__ = ("version", "yaml", "imported_yaml")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    YAML_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_YAML_FIELD_NUMBER: _ClassVar[int]
    version: TemplateVersion
    yaml: str
    imported_yaml: str
    def __init__(self, version: _Optional[_Union[TemplateVersion, _Mapping]] = ..., yaml: _Optional[str] = ..., imported_yaml: _Optional[str] = ...) -> None: ...

class TemplateVersion(_message.Message):
    __slots__ = ("template_id", "version", "name", "sha256", "action_keys", "created_at", "created_by", "comment")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEYS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: int
    name: str
    sha256: str
    action_keys: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    created_by: str
    comment: str
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., sha256: _Optional[str] = ..., action_keys: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[TemplateVersion]
    def __init__(self, templates: _Optional[_Iterable[_Union[TemplateVersion, _Mapping]]] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("template_id",)
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    def __init__(self, template_id: _Optional[str] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[TemplateVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[TemplateVersion, _Mapping]]] = ...) -> None: ...

class DiffVersionsRequest(_message.Message):
    __slots__ = ("template_id", "from_version", "to_version", "draft_yaml")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    DRAFT_YAML_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    from_version: int
    to_version: int
    draft_yaml: str
    def __init__(self, template_id: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., draft_yaml: _Optional[str] = ...) -> None: ...

class TemplateChange(_message.Message):
    __slots__ = ("kind", "scope", "field", "before", "after")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    kind: str
    scope: str
    field: str
    before: str
    after: str
    def __init__(self, kind: _Optional[str] = ..., scope: _Optional[str] = ..., field: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ...) -> None: ...

class DiffVersionsResponse(_message.Message):
    __slots__ = ("from_version", "to_version", "changes", "lines")
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    from_version: int
    to_version: int
    changes: _containers.RepeatedCompositeFieldContainer[TemplateChange]
    lines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[TemplateChange, _Mapping]]] = ..., lines: _Optional[_Iterable[str]] = ...) -> None: ...

class ListTemplateUsageRequest(_message.Message):
    __slots__ = ("template_id",)
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    def __init__(self, template_id: _Optional[str] = ...) -> None: ...

class TemplateUsage(_message.Message):
    __slots__ = ("template_id", "version", "running", "opportunity_ids")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_IDS_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    version: int
    running: int
    opportunity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, template_id: _Optional[str] = ..., version: _Optional[int] = ..., running: _Optional[int] = ..., opportunity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListTemplateUsageResponse(_message.Message):
    __slots__ = ("usage",)
    USAGE_FIELD_NUMBER: _ClassVar[int]
    usage: _containers.RepeatedCompositeFieldContainer[TemplateUsage]
    def __init__(self, usage: _Optional[_Iterable[_Union[TemplateUsage, _Mapping]]] = ...) -> None: ...

class MigrationRequest(_message.Message):
    __slots__ = ("template_id", "to_version", "opportunity_ids", "from_version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_IDS_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    to_version: int
    opportunity_ids: _containers.RepeatedScalarFieldContainer[str]
    from_version: int
    def __init__(self, template_id: _Optional[str] = ..., to_version: _Optional[int] = ..., opportunity_ids: _Optional[_Iterable[str]] = ..., from_version: _Optional[int] = ...) -> None: ...

class DeadlineChange(_message.Message):
    __slots__ = ("key", "before", "after")
    KEY_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    key: str
    before: _timestamp_pb2.Timestamp
    after: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PipelinePreview(_message.Message):
    __slots__ = ("opportunity_id", "from_version", "to_version", "possible", "problems", "deadlines", "added_actions", "removed_actions")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    ADDED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    from_version: int
    to_version: int
    possible: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    deadlines: _containers.RepeatedCompositeFieldContainer[DeadlineChange]
    added_actions: _containers.RepeatedScalarFieldContainer[str]
    removed_actions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, opportunity_id: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., possible: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ..., deadlines: _Optional[_Iterable[_Union[DeadlineChange, _Mapping]]] = ..., added_actions: _Optional[_Iterable[str]] = ..., removed_actions: _Optional[_Iterable[str]] = ...) -> None: ...

class PreviewMigrationResponse(_message.Message):
    __slots__ = ("pipelines",)
    PIPELINES_FIELD_NUMBER: _ClassVar[int]
    pipelines: _containers.RepeatedCompositeFieldContainer[PipelinePreview]
    def __init__(self, pipelines: _Optional[_Iterable[_Union[PipelinePreview, _Mapping]]] = ...) -> None: ...

class PipelineMove(_message.Message):
    __slots__ = ("opportunity_id", "from_version", "to_version", "moved", "problems")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    MOVED_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    from_version: int
    to_version: int
    moved: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, opportunity_id: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., moved: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...

class MigratePipelinesResponse(_message.Message):
    __slots__ = ("pipelines",)
    PIPELINES_FIELD_NUMBER: _ClassVar[int]
    pipelines: _containers.RepeatedCompositeFieldContainer[PipelineMove]
    def __init__(self, pipelines: _Optional[_Iterable[_Union[PipelineMove, _Mapping]]] = ...) -> None: ...
