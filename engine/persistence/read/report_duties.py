"""The histories periodic reporting duties (定期填报) are replayed from: each task's steps up to an instant.

One query streams the events of the tasks asked for, ordered by task and sequence; the domain
(``engine.domain.cadence``) turns them into duties. Only tasks of workflows that ask for periodic reports
are read, so a store without any costs nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from ...domain.cadence import Step
from ..models import Event, Task, Unit


@dataclass(frozen=True, slots=True)
class DutySource:
    task_id: int
    code: str
    workflow: str
    campaign: str | None
    ongoing: bool
    unit_id: int  # the responsible unit now
    steps: tuple[Step, ...]


def duty_sources(
    conn: Connection,
    *,
    workflows: Sequence[str],
    until: datetime,
    codes: Sequence[str] | None = None,
    campaign: str | None = None,
    unit_id: int | None = None,
    open_in: Mapping[str, frozenset[str]] | None = None,
    ongoing_only: frozenset[str] = frozenset(),
) -> Iterator[DutySource]:
    """Tasks of ``workflows`` (optionally only ``codes``, a campaign, a unit, or tasks now in one of the
    states ``open_in`` gives per workflow) with their steps up to ``until``. Of the workflows in ``ongoing_only``
    only 长期坚持 tasks are read: the others owe no periodic reports."""
    if not workflows or (codes is not None and not codes):
        return
    query = (
        select(
            Task.id,
            Task.code,
            Task.workflow,
            Task.campaign,
            Task.ongoing,
            Task.unit_id,
            Event.at,
            Event.trigger,
            Event.to_state,
            Event.unit_id,
        )
        .join(Event, Event.task_id == Task.id)
        .where(Task.workflow.in_(list(workflows)), Event.at <= until)
        .order_by(Task.id, Event.seq)
    )
    if ongoing_only:
        query = query.where(or_(Task.workflow.not_in(sorted(ongoing_only)), Task.ongoing.is_(True)))
    if codes is not None:
        query = query.where(Task.code.in_(list(codes)))
    if campaign is not None:
        query = query.where(Task.campaign == campaign)
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    if open_in is not None:
        pairs = [and_(Task.workflow == w, Task.state.in_(sorted(states))) for w, states in open_in.items() if states]
        if not pairs:
            return
        query = query.where(or_(*pairs))
    rows = conn.execution_options(yield_per=5000).execute(query)
    for _task, group in itertools.groupby(rows, key=lambda r: r[0]):
        found = list(group)
        first = found[0]
        unit = first[5]
        steps: list[Step] = []
        for r in found:
            unit = r[9] if r[9] is not None else unit if steps else first[5]
            steps.append(Step(r[6], r[7], r[8], unit))
        yield DutySource(first[0], first[1], first[2], first[3], bool(first[4]), first[5], tuple(steps))


def unit_names(conn: Connection) -> dict[int, str]:
    return {uid: name for uid, name in conn.execute(select(Unit.id, Unit.name))}


class ReportDutyReads:
    """The read model the duty services reach through the unit of work (``uow.report_duties``)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def sources(
        self,
        *,
        workflows: Sequence[str],
        until: datetime,
        codes: Sequence[str] | None = None,
        campaign: str | None = None,
        unit_id: int | None = None,
        open_in: Mapping[str, frozenset[str]] | None = None,
        ongoing_only: frozenset[str] = frozenset(),
    ) -> Iterator[DutySource]:
        return duty_sources(
            self._conn,
            workflows=workflows,
            until=until,
            codes=codes,
            campaign=campaign,
            unit_id=unit_id,
            open_in=open_in,
            ongoing_only=ongoing_only,
        )

    def unit_names(self) -> dict[int, str]:
        return unit_names(self._conn)
