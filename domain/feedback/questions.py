"""Validation of the answers a citizen gives to a category's extra questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import InvalidInput
from domain.feedback.model import Datatype, Question

MAX_STRING = 200
MAX_TEXT = 4000


def _bad(code: str, rule: str, **params: Any) -> InvalidInput:
    return InvalidInput("feedback.invalid_answer", field=f"answers.{code}", rule=rule, **params)


def _check(q: Question, value: Any) -> Any:
    keys = {v.key for v in q.values}
    if q.datatype in (Datatype.STRING, Datatype.TEXT):
        limit = MAX_STRING if q.datatype is Datatype.STRING else MAX_TEXT
        if not isinstance(value, str):
            raise _bad(q.code, "type", expected="string")
        if len(value) > limit:
            raise _bad(q.code, "max_length", limit=limit)
        return value
    if q.datatype is Datatype.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(q.code, "type", expected="number")
        return value
    if q.datatype is Datatype.DATETIME:
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise _bad(q.code, "format", expected="datetime")
        return value
    if q.datatype is Datatype.SINGLE:
        if not isinstance(value, str) or value not in keys:
            raise _bad(q.code, "enum")
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v in keys for v in value):
        raise _bad(q.code, "enum")
    if len(set(value)) != len(value):
        raise _bad(q.code, "unique")
    return value


def validate_answers(questions: tuple[Question, ...], answers: dict[str, Any]) -> dict[str, Any]:
    by_code = {q.code: q for q in questions}
    for code in answers:
        if code not in by_code:
            raise _bad(code, "unknown_field")
    clean: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q.code)
        empty = value is None or value == "" or value == []
        if empty:
            if q.required:
                raise _bad(q.code, "required")
            continue
        clean[q.code] = _check(q, value)
    return clean


def check_questions(questions: tuple[Question, ...]) -> None:
    """A category's question list is consistent (unique codes; list types have unique values)."""
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.code in seen:
            raise InvalidInput("feedback.invalid_question", field=f"questions[{i}].code", rule="unique")
        seen.add(q.code)
        is_list = q.datatype in (Datatype.SINGLE, Datatype.MULTI)
        keys = [v.key for v in q.values]
        if is_list and not keys:
            raise InvalidInput("feedback.invalid_question", field=f"questions[{i}].values", rule="required")
        if not is_list and keys:
            raise InvalidInput("feedback.invalid_question", field=f"questions[{i}].values", rule="not_allowed")
        if len(set(keys)) != len(keys):
            raise InvalidInput("feedback.invalid_question", field=f"questions[{i}].values", rule="unique")
