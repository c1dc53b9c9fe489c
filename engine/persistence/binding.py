"""Reading a stored task row as the facts its history binds (``TaskContent`` and ``RowFacts``).

One place turns columns into those facts, so the firing path, the importer, the
upgrade that took the baselines and ``audit verify`` cannot disagree about
what a row says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..domain.audit import RowFacts, TaskContent
from .codec import decode_date, decode_instant

if TYPE_CHECKING:
    from sqlalchemy import RowMapping

# The task columns the content digest covers, in the order ``content_of`` reads them.
CONTENT_COLUMNS = (
    "workflow",
    "title",
    "problem",
    "measures",
    "category",
    "campaign",
    "priority",
    "fields",
    "responsible_person_id",
    "deadline_expr",
    "ongoing",
    "source_key",
    "target",
    "ledger_columns",
    "assigned_on",
    "closed_on",
)  # the source columns (0007) are read with .get: the upgrade to 0005 runs on a table without them


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):  # SQLite may hand a DATE column back as a datetime through the ORM
        return value.date()
    return None if value is None else decode_date(value)


def content_of(row: Mapping[str, Any] | RowMapping, co_units: Iterable[int]) -> TaskContent:
    """A task's content from its columns (raw driver values or ORM values alike) and its co-unit ids."""
    return TaskContent(
        workflow=row["workflow"],
        title=row["title"],
        problem=row["problem"],
        measures=tuple(_json(row["measures"]) or ()),
        category=row["category"],
        campaign=row["campaign"],
        priority=row["priority"],
        fields=_json(row["fields"]) or {},
        responsible_person=row["responsible_person_id"],
        co_units=tuple(co_units),
        deadline_expr=row["deadline_expr"],
        ongoing=bool(row["ongoing"]),
        source_key=row["source_key"],
        target=row["target"],
        ledger_columns=_json(row["ledger_columns"]),
        assigned_on=_day(row["assigned_on"]),
        closed_on=_day(row["closed_on"]),
        source=row.get("source"),
        source_ref=row.get("source_ref"),
        source_date=_day(row.get("source_date")),
        instruction=row.get("instruction"),
        parent_id=row.get("parent_id"),
    )


def row_facts_of(row: Mapping[str, Any] | RowMapping, content_hash: str) -> RowFacts:
    return RowFacts(
        content=content_hash,
        unit_id=int(row["unit_id"]),
        lead_leader=row["lead_leader_id"],
        original_deadline=_day(row["original_deadline"]),
        deadline_version=int(row["deadline_version"]),
        sign_by=_day(row.get("sign_by")),
        signed_at=_instant_of(row.get("signed_at")),
    )


def _instant_of(value: Any) -> datetime | None:
    return None if value is None else decode_instant(value)


def person_body(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """A person as the chain records them: everything that decides who they are and what they may do."""
    return {
        "name": row["name"],
        "unit_id": row["unit_id"],
        "roles": sorted(_json(row["roles"]) or []),
        "accounts": sorted(_json(row["accounts"]) or []) or None,
        "email": row["email"],
        "phone": row["phone"],
        "wecom": row["wecom"],
        "dingtalk": row["dingtalk"],
        "channels": _json(row["channels"]),
        # Digest preferences decide who is told and when; absent while unset, so earlier records still match.
        **{k: row[k] for k in ("digest", "notify") if row.get(k) is not None},
    }


def unit_body(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    return {
        "name": row["name"],
        "parent_id": row["parent_id"],
        "head_id": row["head_id"],
        "channels": _json(row["channels"]),
        "aliases": _json(row["aliases"]),
        **({"digest": row["digest"]} if row.get("digest") is not None else {}),
    }


def _iso(value: Any) -> str | None:
    day = _day(value)
    return day.isoformat() if day else None


def campaign_body(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    return {"feedback_on": _iso(row["feedback_on"]), "source": row["source"], "started_on": _iso(row["started_on"])}
