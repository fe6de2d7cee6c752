"""Reading catalogue YAML so that every error names the file, the line and the path."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

Path_ = tuple[int | str, ...]


class CatalogueError(ValueError):
    """An invalid catalogue; the message lists each problem as ``file:line: path: what``."""


def yaml_with_lines(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """The YAML document and the 1-based line of every mapping value and list item."""
    try:
        node = yaml.compose(_named(text, source), Loader=yaml.SafeLoader)
        data = yaml.safe_load(_named(text, source))
    except yaml.YAMLError as error:
        raise CatalogueError(f"{source}: not valid YAML: {error}") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _named(text: str, source: str) -> io.StringIO:
    """The text as a stream with a name, so YAML's own messages name the file."""
    stream = io.StringIO(text)
    stream.name = source
    return stream


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _walk(value, (*path, str(key.value)), lines)
            lines[(*path, str(key.value))] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def data_path(data: Any, loc: Iterable[int | str]) -> Path_:
    """A pydantic error location as a path in the data: union tags and validator names,
    which are not keys of the document, are left out."""
    out: list[int | str] = []
    here: Any = data
    for part in loc:
        if _has(here, part):
            here = here[part]
        elif isinstance(part, str) and _is_tag(here, part):
            continue
        else:
            here = None  # past what the document has: keep the rest of the location as is
        out.append(part)
    return tuple(out)


def _has(here: Any, part: int | str) -> bool:
    if isinstance(here, Mapping):
        return part in here
    return isinstance(here, list | tuple) and isinstance(part, int) and 0 <= part < len(here)


def _is_tag(here: Any, part: str) -> bool:
    # discriminated unions add the tag value ("modbus", "hvac"); validators their names
    if "[" in part or part.startswith("function-"):
        return True
    return isinstance(here, Mapping) and part in (here.get("protocol"), here.get("kind"))


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def where(source: str, lines: Mapping[Path_, int], path: Path_) -> str:
    """``file:line: path`` — the line of the deepest part of the path the file has."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return f"{source}:{line}: {format_path(path)}"
    return f"{source}: {format_path(path)}"


def describe(source: str, data: Any, lines: Mapping[Path_, int], error: ValidationError) -> str:
    out = []
    for item in error.errors():
        given = item.get("input")
        shown = (
            "" if isinstance(given, dict | list | tuple) or given is None else f" (got {given!r})"
        )
        message = item["msg"].removeprefix("Value error, ")
        out.append(f"{where(source, lines, data_path(data, item['loc']))}: {message}{shown}")
    return "\n".join(out)
