"""`schema=` for a batch: a JSON schema (a dict) or a pydantic model, as one validator.

`RowSchema.of(schema)` gives the JSON schema to send (the client maps `schema=` per protocol),
the fields that become columns, and `validate(text)`: the parsed value, or a `SchemaMismatch`
whose message is one line naming what is wrong (the re-ask sends it back to the model).
jsonschema and pydantic are imported only when a schema of theirs is used.

Example:
    >>> rs = RowSchema.of({"type": "object", "properties": {"label": {"enum": ["pos", "neg"]}},
    ...                    "required": ["label"]})
    >>> rs.fields, rs.validate('{"label": "pos"}')
    (['label'], {'label': 'pos'})
    >>> rs.validate('{"label": "meh"}')
    Traceback (most recent call last):
    ...
    cloudsway_nb.structured.SchemaMismatch: label: 'meh' is not one of ['pos', 'neg']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import bad_argument

__all__ = ["RowSchema", "SchemaMismatch"]


class SchemaMismatch(ValueError):
    """An answer that does not fit the schema (the message is one line)."""


@dataclass(frozen=True)
class RowSchema:
    """What a batch needs of `schema=`: the JSON schema, the columns, a validator."""

    json_schema: dict[str, Any]
    model: Any = None  # the pydantic model, when one was given

    @classmethod
    def of(cls, schema: Any) -> RowSchema | None:
        if schema is None:
            return None
        if isinstance(schema, dict):
            from jsonschema.validators import validator_for

            try:
                validator_for(schema).check_schema(schema)
            except Exception as exc:
                raise bad_argument("schema", schema, f"a valid JSON schema ({_first_line(exc)})",
                                   "schema={'type': 'object', 'properties': {'label': {'type': 'string'}}}") from None
            return cls(schema)
        if isinstance(schema, type) and callable(getattr(schema, "model_json_schema", None)):
            return cls(schema.model_json_schema(), schema)
        raise bad_argument("schema", schema, "a JSON schema (a dict) or a pydantic model class",
                           "schema={'type': 'object', 'properties': {'label': {'type': 'string'}}}")

    @property
    def fields(self) -> list[str]:
        """The columns an answer fills: the object's properties (or one `answer` column)."""
        props = self.json_schema.get("properties")
        return [*props] if self.json_schema.get("type", "object") == "object" and isinstance(props, dict) \
            else ["answer"]

    def validate(self, text: str) -> Any:
        """The answer parsed and checked; SchemaMismatch (one line) when it does not fit."""
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise SchemaMismatch(f"the answer is not JSON ({exc})") from None
        if self.model is not None:
            from pydantic import ValidationError

            try:
                return self.model.model_validate(value).model_dump(mode="json")
            except ValidationError as exc:
                raise SchemaMismatch("; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or '(answer)'}: {e['msg']}" for e in exc.errors()
                )) from None
        from jsonschema.validators import validator_for

        errors = sorted(validator_for(self.json_schema)(self.json_schema).iter_errors(value), key=lambda e: e.path)
        if errors:
            raise SchemaMismatch("; ".join(
                f"{'.'.join(str(p) for p in e.absolute_path) or '(answer)'}: {e.message}" for e in errors[:3]))
        return value

    def columns(self, value: Any) -> dict[str, Any]:
        """A validated value as its columns."""
        if self.fields == ["answer"] or not isinstance(value, dict):
            return {"answer": value}
        return {name: value.get(name) for name in self.fields}


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", exc))
    return text.splitlines()[0] if text else type(exc).__name__
