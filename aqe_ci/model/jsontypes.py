"""Type names for JSON values: what ``json.loads`` returns and ``json.dumps`` takes."""

from __future__ import annotations

from typing import TypeAlias

JsonScalar: TypeAlias = "None | bool | int | float | str"
JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"
JsonObject: TypeAlias = "dict[str, JsonValue]"
