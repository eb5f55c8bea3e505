"""Business processes: what an uploaded document becomes and how its results come back.

A business process names the accounting document type it starts from, the terminal document
type it becomes, the accounting document produced on return, whom documents may be assigned to
and how results are loaded back (docs/routing.md). Operators import and export processes as
YAML or JSON; the file is ``{"processes": [...]}``.

Settings that exclude each other are refused when a process is read, so the routing rules never
meet a contradiction:

- ``assign_to="device"`` with a fixed user or group (a device process has no user assignee);
- ``own_copy_per_user`` with ``collective`` (a copy per member cannot also be shared);
- ``load_into_same`` with ``on_load.action="create_new"``;
- ``next_process`` naming the process itself;
- ``create_on_terminal`` without ``on_load.action="create_new"`` (a document the terminal
  started has no accounting document to be written into).

A follow-up must fit: the next process starts from the document type this process produces
(its ``source_type`` is this process's ``result_type``), otherwise every follow-up it starts
would be refused with ``wrong_source_type``. :func:`follow_up_mismatch` checks a whole set.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from shared.contracts.documents import DocumentHeader, Strict, Target
from shared.contracts.routing_rpc import FileFormat, Slug
from shared.errors import Refusal, carried, describe

ProcessKind = Literal["typical", "custom"]
AssignTo = Literal["users_groups", "device"]
LoadAction = Literal["write", "post", "create_new"]
# Line attributes a process may ask the storekeeper to type when the scan did not carry them.
AskedAttribute = Literal["series", "expiry", "characteristic"]

TypeName = Annotated[str, Field(min_length=1, max_length=200)]
FieldName = Annotated[str, Field(min_length=1, max_length=200)]

# An import larger than this is refused before parsing (a process file is a few kilobytes).
MAX_FILE_BYTES = 1024 * 1024
FILE_INVALID = "process_file_invalid"
DEFAULT_PRESENTATION = "{accounting_type} № {number} от {date}"
_HEADER_FIELDS = frozenset(DocumentHeader.model_fields)


class FieldMapping(Strict):
    """Copy ``source`` into ``target``; ``default`` is used when the source is absent or empty.

    A mapping with no source writes the constant ``default``.
    """

    source: FieldName | None = None
    target: FieldName
    default: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _source_or_default(self) -> FieldMapping:
        if self.source is None and self.default is None:
            raise ValueError(f"mapping to “{self.target}” needs a source or a default")
        return self


class MappingRules(Strict):
    """Field mappings on upload (accounting → terminal) and on load (terminal → accounting)."""

    upload: list[FieldMapping] = Field(default_factory=list, max_length=500)
    load: list[FieldMapping] = Field(default_factory=list, max_length=500)

    @field_validator("upload", "load")
    @classmethod
    def _one_rule_per_target(cls, rules: list[FieldMapping]) -> list[FieldMapping]:
        seen: set[str] = set()
        for rule in rules:
            if rule.target in seen:
                raise ValueError(f"field “{rule.target}” is mapped twice")
            seen.add(rule.target)
        return rules


class OnLoad(Strict):
    """What the accounting side does with a returned result.

    ``action``: write the document, write and post it, or create a new document of the
    process's result type. ``only_online``: the action runs only for results pushed by online
    exchange; a result the operator loads by hand (offline) is left for the operator to finish.
    """

    action: LoadAction = "write"
    only_online: bool = False


class BusinessProcess(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=300)
    enabled: bool = True
    kind: ProcessKind = "custom"
    source_type: TypeName  # e.g. «Заказ поставщику»
    terminal_type: TypeName  # e.g. «Поступление»
    result_type: TypeName  # e.g. «Приобретение товаров и услуг»
    load_into_same: bool = False  # «Загружать в тот же документ»
    next_process: Slug | None = None  # started when a document of this process is completed
    assign_to: AssignTo = "users_groups"
    fixed_assignee: Target | None = None  # kind user or group
    own_copy_per_user: bool = False  # a document for a group / everyone: one copy per member
    collective: bool = False  # several users work on one shared copy; results are merged
    keep_merged: bool = True  # «не разделять объединённый документ при загрузке»
    quantity_control: bool = False  # refuse fact quantities above plan
    # Typed on the terminal when a scan does not carry them (a GS1 code's AI 10 and 17 do).
    ask_for: list[AskedAttribute] = Field(default_factory=list, max_length=3)
    # «Создавать новый документ на ТСД»: the terminal may start a document of this process.
    create_on_terminal: bool = False
    on_load: OnLoad = Field(default_factory=OnLoad)
    header_mapping: MappingRules = Field(default_factory=MappingRules)
    line_mapping: MappingRules = Field(default_factory=MappingRules)
    header_presentation: str = Field(default=DEFAULT_PRESENTATION, max_length=500)
    comment: str = Field(default="", max_length=5000)

    @field_validator("fixed_assignee")
    @classmethod
    def _user_or_group(cls, assignee: Target | None) -> Target | None:
        if assignee is not None and (assignee.kind not in ("user", "group") or not assignee.value):
            raise ValueError("a fixed assignee is a user or a group, with its name")
        return assignee

    @field_validator("header_presentation")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        except ValueError as exc:
            raise ValueError(f"bad presentation template: {exc}") from None
        unknown = sorted(names - _HEADER_FIELDS)
        if unknown:
            known = ", ".join(sorted(_HEADER_FIELDS))
            raise ValueError(f"unknown placeholders {unknown}; known: {known}")
        try:  # a format spec that does not suit text fails here, not on the first document
            template.format(**dict.fromkeys(_HEADER_FIELDS, ""))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"bad presentation template: {exc}") from None
        return template

    @model_validator(mode="after")
    def _consistent(self) -> BusinessProcess:
        if self.assign_to == "device" and self.fixed_assignee is not None:
            raise ValueError("a process that assigns to a device has no fixed user or group")
        if self.own_copy_per_user and self.collective:
            raise ValueError("own copy per user and collective work exclude each other")
        if self.load_into_same and self.on_load.action == "create_new":
            raise ValueError("load into the same document cannot also create a new one")
        if self.next_process == self.id:
            raise ValueError("a process cannot be its own next process")
        if self.create_on_terminal and self.on_load.action != "create_new":
            # A document started on the terminal has no accounting document to write into.
            raise ValueError("create on terminal needs on_load.action create_new")
        return self

    def present(self, header: DocumentHeader) -> str:
        """The document's title on the terminal, from ``header_presentation``."""
        values = {name: getattr(header, name) for name in _HEADER_FIELDS}
        return self.header_presentation.format(**values).strip()


def load_processes(data: str | bytes, known_ids: Iterable[str] = ()) -> list[BusinessProcess]:
    """Read a YAML or JSON process file; refuse it whole with ``process_file_invalid``.

    ``next_process`` must name a process of the file or one of ``known_ids``.
    """
    raw = _parse(data)
    if (
        not isinstance(raw, dict)
        or set(raw) != {"processes"}
        or not isinstance(raw["processes"], list)
    ):
        raise _invalid("the file must be a mapping with one key “processes” holding a list")
    processes: list[BusinessProcess] = []
    for index, item in enumerate(raw["processes"]):
        try:
            processes.append(BusinessProcess.model_validate(item))
        except ValidationError as exc:
            problems = carried(exc, prefix=(f"processes[{index}]",))
            raise Refusal(
                FILE_INVALID, 422, details=describe(problems), problems=problems
            ) from None
    _check_ids(processes, set(known_ids))
    return processes


def dump_processes(processes: Iterable[BusinessProcess], fmt: FileFormat = "yaml") -> str:
    """The export format read back by :func:`load_processes`."""
    body = {"processes": [p.model_dump(mode="json") for p in processes]}
    if fmt == "json":
        return json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    return yaml.dump(body, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False)


def default_processes() -> list[BusinessProcess]:
    """The ready processes shipped with tsdx (``default_processes.yaml``)."""
    text = resources.files(__package__).joinpath("default_processes.yaml").read_text("utf-8")
    return load_processes(text)


def _parse(data: str | bytes) -> Any:
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_FILE_BYTES:
        raise _invalid(f"the file is larger than {MAX_FILE_BYTES} bytes")
    try:
        return yaml.load(data, Loader=_NoAliasLoader)  # a safe loader, see below
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _invalid(f"{where}{exc.problem or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _invalid(str(exc)) from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise _invalid("nested too deeply") from None


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader without anchors and aliases: a process file needs none, and nested
    aliases make a small file expand into a huge one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", mark)
        return super().compose_node(parent, index)


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated values in full, so an export is always readable by the loader above."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _check_ids(processes: list[BusinessProcess], known_ids: set[str]) -> None:
    ids: set[str] = set()
    for process in processes:
        if process.id in ids:
            raise _invalid(f"process “{process.id}” appears twice")
        ids.add(process.id)
    for process in processes:
        if process.next_process and process.next_process not in ids | known_ids:
            raise _invalid(
                f"process “{process.id}”: next process “{process.next_process}” is unknown"
            )
    # Pairs within the file are checked here; pairs with known processes by the caller.
    in_file = {p.id: p for p in processes}
    mismatch = follow_up_mismatch(in_file, only_known=True)
    if mismatch:
        raise _invalid(mismatch)


def follow_up_mismatch(
    processes: Mapping[str, BusinessProcess], *, only_known: bool = False
) -> str | None:
    """Why the follow-ups of ``processes`` (by id) do not fit, or None when they all do.

    A ``next_process`` absent from ``processes`` is a mismatch unless ``only_known``.
    """
    for process in processes.values():
        if process.next_process is None:
            continue
        follow = processes.get(process.next_process)
        if follow is None:
            if only_known:
                continue
            return f"process “{process.id}”: next process “{process.next_process}” is unknown"
        if follow.source_type != process.result_type:
            return (
                f"process “{process.id}” produces “{process.result_type}”, but its next "
                f"process “{follow.id}” starts from “{follow.source_type}”"
            )
    return None


def _invalid(details: str) -> Refusal:
    return Refusal(FILE_INVALID, 422, details=details)
