"""The faster writers of the chain's bytes and the stored instants against the plain ``json``/``datetime`` ones.

``audit.canonical``, ``jsontext`` and ``codec``'s instants are written for speed on the firing path; the hashes
of every event ever written depend on their bytes, so here they are held to the straightforward definitions
they replaced (kept below, as they were) on varied values: Chinese text, escapes, None, dates, nested data.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duban.engine.domain import jsontext
from duban.engine.domain.audit import EventFacts, RowFacts, canonical, canonical_dict, event_hash
from duban.engine.domain.machine import TaskFacts
from duban.engine.domain.planning import DeadlineClock
from duban.engine.persistence.codec import decode_instant, encode_instant, encode_json
from duban.engine.persistence.repository import TaskRow

# --- the definitions as they were --------------------------------------------------------------------------


def old_instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def old_canonical(e: EventFacts) -> bytes:
    content: dict[str, Any] = {
        "task": e.task,
        "seq": e.seq,
        "trigger": e.trigger,
        "from": e.from_state,
        "to": e.to_state,
        "actor": e.actor_id,
        "operator": e.operator_id,
        "comment": e.comment,
        "at": old_instant(e.at),
        "data": e.data,
        "deadline": e.deadline.isoformat() if e.deadline else None,
    }
    if e.account is not None:
        content["account"] = e.account
    if e.row is not None:
        content["row"] = e.row
    if e.via is not None:
        content["via"] = e.via
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def old_encode_instant(value: datetime, dialect_name: str) -> object:
    value = value.astimezone(UTC)
    if dialect_name == "sqlite":
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def old_decode_instant(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- values ------------------------------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(list('整改督办牵头配合单位"\\/\n\t\r\x00\x1f\u2028\u2029\U0001f600')),
    ),
    max_size=12,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(TEXT, inner, max_size=5)
    ),
    max_leaves=20,
)
FLAT = st.dictionaries(TEXT, st.one_of(st.none(), st.integers(), TEXT), max_size=8)
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]),
)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_jsontext_writes_what_json_dumps_writes(value: Any) -> None:
    assert jsontext.compact(value) == json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert jsontext.spaced(value) == json.dumps(value, ensure_ascii=False, sort_keys=True)
    assert encode_json(value) == (None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True))


@settings(max_examples=200, deadline=None)
@given(FLAT)
def test_flat_dicts_take_the_fast_path_and_match(value: dict[str, Any]) -> None:
    assert jsontext._flat(value, ":", ",") == json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def test_what_json_refuses_is_still_refused() -> None:
    for bad in ({1: "a", "b": 2}, {"d": date(2026, 9, 7)}, {"nested": {"at": datetime(2026, 9, 7)}}):
        with pytest.raises(TypeError):
            json.dumps(bad, ensure_ascii=False, sort_keys=True)
        with pytest.raises(TypeError):
            jsontext.compact(bad)
        with pytest.raises(TypeError):
            jsontext.spaced(bad)
    # int keys alone json writes as strings, sorted as ints: left to json
    assert jsontext.compact({10: "a", 9: "b"}) == '{"9":"b","10":"a"}'


EVENTS = st.builds(
    EventFacts,
    task=st.sampled_from(["ZG-2026-0001", "整改-2026-0002", 'A"B']),
    seq=st.integers(min_value=1, max_value=10**6),
    trigger=st.sampled_from(["start", "submit", "co_report", "import"]),
    from_state=st.one_of(st.none(), st.sampled_from(["assigned", "in_progress"])),
    to_state=st.sampled_from(["in_progress", "closed"]),
    actor_id=st.sampled_from(["fenglei", "王军"]),
    operator_id=st.one_of(st.none(), st.sampled_from(["zhouqiang", "张伟"])),
    comment=st.one_of(st.none(), TEXT),
    at=INSTANTS,
    data=st.one_of(st.none(), st.dictionaries(TEXT, JSON, max_size=4), FLAT),
    deadline=st.one_of(st.none(), st.dates(min_value=date(1000, 1, 1))),
    account=st.one_of(st.none(), st.sampled_from(["os:duban", "pg:督办", "web:zhangwei"])),
    row=st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                "content": st.just("0" * 64),
                "unit": st.integers(1, 500),
                "leader": st.one_of(st.none(), st.just("zhangwei")),
                "original_deadline": st.one_of(st.none(), st.just("2026-09-30")),
                "deadline_version": st.integers(1, 9),
            },
            optional={"sign_by": st.just("2026-09-09"), "signed_at": st.just("2026-09-07T02:00:00.000000Z")},
        ),
        FLAT,
    ),
    via=st.one_of(st.none(), st.just("web")),
)


@settings(max_examples=500, deadline=None)
@given(EVENTS)
def test_the_chain_bytes_are_the_same_as_before(e: EventFacts) -> None:
    assert canonical(e) == old_canonical(e)
    assert canonical(e) == json.dumps(
        canonical_dict(e), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def test_a_known_event_keeps_its_hash() -> None:
    """Written once by the code before this change: the bytes, not only the two writers, stay put."""
    e = EventFacts(
        task="ZG-2026-0001",
        seq=2,
        trigger="start",
        from_state="assigned",
        to_state="in_progress",
        actor_id="fenglei",
        operator_id=None,
        comment="已签收，马上整改",
        at=datetime(2026, 9, 7, 10, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
        data={"percent": 50, "note": "过半", "evidence": ["ab"], "files": [{"sha256": "ab", "size": 3}]},
        deadline=date(2026, 9, 30),
        account="os:duban",
        row={"content": "0" * 64, "unit": 4, "leader": "zhangwei", "original_deadline": None, "deadline_version": 1},
    )
    assert canonical(e) == old_canonical(e)
    assert event_hash(e, "0" * 64) == "70f80e181da1556074db34ce05c4e5517561c901e566e473cf46b3fdb52502ec"


@settings(max_examples=300, deadline=None)
@given(INSTANTS)
def test_stored_instants_are_written_and_read_as_before(at: datetime) -> None:
    for dialect in ("sqlite", "postgresql"):
        assert encode_instant(at, dialect) == old_encode_instant(at, dialect)
    text = old_encode_instant(at, "sqlite")
    assert isinstance(text, str)
    for stored in (text, text[:19], text.replace(" ", "T"), text + "+00:00", at.isoformat(), at):
        new, old = decode_instant(stored), old_decode_instant(stored)
        assert new == old and new.tzinfo is UTC and old.tzinfo is UTC


def _old_row_json(r: RowFacts) -> dict[str, Any]:
    """``RowFacts.to_json`` as it was written before the firing called ``row_json`` directly."""
    out: dict[str, Any] = {
        "content": r.content,
        "unit": r.unit_id,
        "leader": r.lead_leader,
        "original_deadline": r.original_deadline.isoformat() if r.original_deadline else None,
        "deadline_version": r.deadline_version,
    }
    if r.sign_by is not None:
        out["sign_by"] = r.sign_by.isoformat()
    if r.signed_at is not None:
        out["signed_at"] = r.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return out


@pytest.mark.parametrize("original", [None, date(2026, 9, 30)])
@pytest.mark.parametrize("sign_by", [None, date(2026, 9, 9)])
@pytest.mark.parametrize("signed_at", [None, datetime(2026, 9, 8, 2, 30, 0, 123456, tzinfo=UTC)])
def test_the_firing_binds_the_row_as_row_facts_did(
    original: date | None, sign_by: date | None, signed_at: datetime | None
) -> None:
    at = datetime(2026, 9, 7, 1, tzinfo=UTC)
    clock = DeadlineClock(
        deadline=date(2026, 10, 9),
        deadline_version=3,
        watch_from=at,
        created_at=at,
        sign_by=sign_by,
        signed_at=signed_at,
    )
    task = TaskRow(
        id=1,
        code="ZG-2026-0001",
        workflow="rectification",
        version=2,
        facts=TaskFacts(
            code="ZG-2026-0001",
            state="in_progress",
            unit_id=4,
            unit_head_id="fenglei",
            lead_leader_id="zhangwei",
            responsible_person_id=None,
        ),
        clock=clock,
        head_hash="0" * 64,
        content_hash="f" * 64,
        original_deadline=original,
    )
    assert task.row_json(clock) == task.row_facts(clock).to_json() == _old_row_json(task.row_facts(clock))
