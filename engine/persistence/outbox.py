"""The notification outbox and the sweep's reads and writes.

Rows are written in the transaction that causes them and carry a unique dedup
key, so a second sweep, a retried transaction or two sweepers at once insert
nothing twice. Delivery claims a row with a lease; a worker that dies leaves a
lease that expires, and the relay hands the row out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..domain.substitution import Substitution
from .codec import decode_date, decode_instant, encode_date
from .sql import DriverStatements, for_dialect


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    dedup_key: str
    task_id: int | None
    rule: str
    level: int
    recipient_id: str | None
    channel: str
    address: str | None
    subject: str
    body: str
    folded: bool = False  # kept as a record only (status 'folded'): its reader receives it in the daily digest
    attachment: str | None = None  # a reference rendered when sent (notice:KEY: the 督办单 as .docx and .pdf)


@dataclass(frozen=True, slots=True)
class About:
    """The task a notification is about: what its text and its recipients need."""

    id: int
    code: str
    title: str
    workflow: str
    state: str
    unit_id: int
    lead_leader_id: str | None
    responsible_person_id: str | None
    deadline: date | None


_ABOUT_COLUMNS = "id, code, title, workflow, state, unit_id, lead_leader_id, responsible_person_id, deadline"


def _about(row: Any) -> About:
    return About(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], decode_date(row[8]))


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    channel: str
    address: str | None
    recipient_id: str | None
    subject: str
    body: str
    attempts: int
    dedup_key: str
    attachment: str | None = None


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    found = decode_date(value)
    assert found is not None
    return found


# The substitutions' columns in the order ``substitutions_where`` reads them; a caller appends its WHERE.
SUBSTITUTIONS_SELECT = (
    "SELECT code, absent_id, substitute_id, starts_on, ends_on, reason, status, requested_by, requested_at, "
    "decided_by, decided_at, cancelled_by, cancelled_at FROM substitutions "
)


def substitutions_where(statements: DriverStatements, statement: str, params: dict[str, Any]) -> list[Substitution]:
    """代理: the substitutions a statement (``SUBSTITUTIONS_SELECT`` and a condition) picks, read on the driver."""
    cur = statements._run(statement, params)
    rows = cur.fetchall()
    cur.close()
    return [
        Substitution(
            code=r[0],
            absent_id=r[1],
            substitute_id=r[2],
            starts_on=_day(r[3]),
            ends_on=_day(r[4]),
            reason=r[5],
            status=r[6],
            requested_by=r[7],
            requested_at=decode_instant(r[8]),
            decided_by=r[9],
            decided_at=None if r[10] is None else decode_instant(r[10]),
            cancelled_by=r[11],
            cancelled_at=None if r[12] is None else decode_instant(r[12]),
        )
        for r in rows
    ]


class OutboxRepository(DriverStatements):
    def substitutes_on(self, day: date) -> list[Substitution]:
        """代理: the substitutions whose range holds ``day``; a notice for someone away goes to their substitute."""
        return substitutions_where(
            self,
            SUBSTITUTIONS_SELECT
            + "WHERE status IN ('approved', 'cancelled') AND starts_on <= :day AND ends_on >= :day",
            {"day": encode_date(day, self.dialect)},
        )

    def add(self, notice: OutgoingNotice, now: datetime) -> bool:
        """Insert unless a notification with the same dedup key exists; True when inserted."""
        cur = self._run(
            "INSERT INTO notifications (dedup_key, task_id, rule, level, recipient_id, channel, address, subject, "
            "body, status, attempts, due_at, created_at, attachment) VALUES (:key, :task, :rule, :level, :recipient, "
            ":channel, :address, :subject, :body, :status, 0, :now, :now, :attachment) ON CONFLICT (dedup_key) DO NOTHING",
            {
                "attachment": notice.attachment,
                "status": "folded" if notice.folded else "pending",
                "key": notice.dedup_key,
                "task": notice.task_id,
                "rule": notice.rule,
                "level": notice.level,
                "recipient": notice.recipient_id,
                "channel": notice.channel,
                "address": notice.address,
                "subject": notice.subject,
                "body": notice.body,
                "now": self._at(now),
            },
        )
        return cur.rowcount == 1

    def existing_keys(self, keys: list[str]) -> set[str]:
        """The dedup keys already in the outbox (a dry run must not count what an earlier sweep wrote)."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            names = {f"k{n}": key for n, key in enumerate(chunk)}
            cur = self._run(
                f"SELECT dedup_key FROM notifications WHERE dedup_key IN ({', '.join(':' + n for n in names)})", names
            )
            found.update(r[0] for r in cur.fetchall())
            cur.close()
        return found

    def about(self, task_id: int) -> About:
        return _about(self._run(f"SELECT {_ABOUT_COLUMNS} FROM tasks WHERE id = :id", {"id": task_id}).fetchone())

    def add_many(self, notices: list[OutgoingNotice], now: datetime) -> int:
        """The sweep's batch in one statement; rows whose dedup key exists are skipped. Returns rows written."""
        if not notices:
            return 0
        at = self._at(now)
        cur = self.conn.cursor()
        cur.executemany(
            for_dialect(
                "INSERT INTO notifications (dedup_key, task_id, rule, level, recipient_id, channel, address, subject, "
                "body, status, attempts, due_at, created_at, attachment) VALUES (:key, :task, :rule, :level, "
                ":recipient, :channel, :address, :subject, :body, :status, 0, :now, :now, :attachment) "
                "ON CONFLICT (dedup_key) DO NOTHING",
                self.dialect,
            ),
            [
                {
                    "attachment": n.attachment,
                    "status": "folded" if n.folded else "pending",
                    "key": n.dedup_key,
                    "task": n.task_id,
                    "rule": n.rule,
                    "level": n.level,
                    "recipient": n.recipient_id,
                    "channel": n.channel,
                    "address": n.address,
                    "subject": n.subject,
                    "body": n.body,
                    "now": at,
                }
                for n in notices
            ],
        )
        return int(cur.rowcount) if cur.rowcount is not None and cur.rowcount >= 0 else len(notices)

    # --- delivery ----------------------------------------------------------------------------------

    _DUE = " IN ('pending', 'sending') AND due_at <= :now AND (lease_until IS NULL OR lease_until < :now)"
    _RELAY = "SELECT id, channel FROM notifications WHERE status" + _DUE + " ORDER BY id LIMIT :limit"
    _RELAY_AFTER = (
        "SELECT id, channel FROM notifications WHERE id > :after AND status" + _DUE + " ORDER BY id LIMIT :limit"
    )
    _RELAY_AFTER_SQLITE = (
        "SELECT id, channel FROM notifications WHERE id > :after AND +status" + _DUE + " ORDER BY id LIMIT :limit"
    )

    def take_for_relay(
        self, now: datetime, hint_until: datetime, limit: int, after: int | None = None
    ) -> list[tuple[int, str]]:
        """Rows to hand to the broker now, marked so the next relay leaves them alone until ``hint_until``.

        Pending rows that are due and not already handed out, and rows whose worker's
        lease ran out (it died) or whose hand-out lapsed (the broker lost the message).
        ``after``: only rows with a greater id, read along the primary key (the beat's relays between sweep
        batches: each looks at what the last batch wrote, not again at every row already handed out).
        """
        lock = " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""
        params: dict[str, Any] = {"now": self._at(now), "limit": limit, "after": after}
        if after is None:
            statement = self._RELAY
        elif self.dialect == "sqlite":  # +status keeps SQLite on the id range, off the (status, due_at) index
            statement = self._RELAY_AFTER_SQLITE
        else:
            statement = self._RELAY_AFTER
        rows = self._run(statement + lock, params).fetchall()
        taken = [(int(r[0]), str(r[1])) for r in rows]
        ids = [i for i, _channel in taken]
        if ids:  # a row whose worker died goes back to pending: the hint is not a worker's lease
            cur = self.conn.cursor()
            until = self._at(hint_until)
            cur.executemany(
                for_dialect(
                    "UPDATE notifications SET status = 'pending', lease_until = :until WHERE id = :id", self.dialect
                ),
                [{"until": until, "id": i} for i in ids],
            )
        return taken

    def last_id(self) -> int:
        """The highest id written so far (0 for an empty outbox)."""
        return int(self._run("SELECT MAX(id) FROM notifications", {}).fetchone()[0] or 0)

    def clear_hints(self, now: datetime) -> int:
        """The broker refused the hand-out: pending rows become deliverable again at once."""
        cur = self._run(
            "UPDATE notifications SET lease_until = NULL WHERE status = 'pending' AND lease_until > :now",
            {"now": self._at(now)},
        )
        return int(cur.rowcount)

    def claim(self, notification_id: int, now: datetime, lease_until: datetime) -> Claimed | None:
        """Take a row for sending; None when it is sent, failed, or held by a live lease elsewhere."""
        cur = self._run(
            "UPDATE notifications SET status = 'sending', lease_until = :lease, attempts = attempts + 1 "
            "WHERE id = :id AND due_at <= :now AND (status = 'pending' OR (status = 'sending' AND lease_until < :now))",
            {"lease": self._at(lease_until), "id": notification_id, "now": self._at(now)},
        )
        if cur.rowcount != 1:
            return None
        r = self._run(
            "SELECT id, channel, address, recipient_id, subject, body, attempts, dedup_key, attachment "
            "FROM notifications WHERE id = :id",
            {"id": notification_id},
        ).fetchone()
        return Claimed(*r)

    def channels_of(self, ids: list[int]) -> dict[int, str]:
        """Each row's channel, so a batch can go to the channels that take many messages in one write."""
        if not ids:
            return {}
        marks, params = self._in(ids)
        return {r[0]: r[1] for r in self._run(f"SELECT id, channel FROM notifications WHERE id IN ({marks})", params)}

    @staticmethod
    def _in(ids: list[int]) -> tuple[str, dict[str, Any]]:
        params = {f"i{n}": i for n, i in enumerate(ids)}
        return ", ".join(f":i{n}" for n in range(len(ids))), params

    def claim_many(self, ids: list[int], now: datetime, lease_until: datetime) -> list[Claimed]:
        """``claim`` for a batch in one statement: the rows this call took, each with its own attempt number."""
        if not ids:
            return []
        marks, params = self._in(ids)
        rows = self._run(
            "UPDATE notifications SET status = 'sending', lease_until = :lease, attempts = attempts + 1 "
            f"WHERE id IN ({marks}) AND due_at <= :now "
            "AND (status = 'pending' OR (status = 'sending' AND lease_until < :now)) "
            "RETURNING id, channel, address, recipient_id, subject, body, attempts, dedup_key, attachment",
            {**params, "lease": self._at(lease_until), "now": self._at(now)},
        ).fetchall()
        order = {i: n for n, i in enumerate(ids)}
        return sorted((Claimed(*r) for r in rows), key=lambda c: order[c.id])

    def held(self, claims: list[tuple[int, int]]) -> dict[int, datetime]:
        """For (id, attempts) pairs: the lease of each row that claim still owns (absent: taken over or done)."""
        if not claims:
            return {}
        marks, params = self._in([i for i, _a in claims])
        attempts = dict(claims)
        rows = self._run(
            f"SELECT id, attempts, lease_until FROM notifications WHERE id IN ({marks}) AND status = 'sending'",
            params,
        ).fetchall()
        return {r[0]: decode_instant(r[2]) for r in rows if attempts.get(r[0]) == r[1] and r[2] is not None}

    def extend_many(self, claims: list[tuple[int, int]], lease_until: datetime) -> int:
        """``extend_lease`` for a batch; returns how many of the claims still owned their row."""
        cur = self.conn.cursor()
        lease, count = self._at(lease_until), 0
        for i, a in claims:  # one statement each: the count must be exact on both drivers
            cur.execute(
                for_dialect("UPDATE notifications SET lease_until = :lease" + self._OWNED, self.dialect),
                {"lease": lease, "id": i, "attempts": a},
            )
            count += cur.rowcount
        return count

    def release_many(self, claims: list[tuple[int, int]]) -> None:
        """Rows this worker claimed but will not send: back to pending at once, for the next hand-out."""
        cur = self.conn.cursor()
        cur.executemany(
            for_dialect("UPDATE notifications SET status = 'pending', lease_until = NULL" + self._OWNED, self.dialect),
            [{"id": i, "attempts": a} for i, a in claims],
        )

    def mark_sent_many(self, claims: list[tuple[int, int]], now: datetime) -> int:
        """``mark_sent`` for a batch, in one transaction; returns how many were recorded."""
        cur = self.conn.cursor()
        at, count = self._at(now), 0
        statement = for_dialect(
            "UPDATE notifications SET status = 'sent', sent_at = :now, lease_until = NULL, last_error = NULL"
            + self._OWNED,
            self.dialect,
        )
        for i, a in claims:
            cur.execute(statement, {"now": at, "id": i, "attempts": a})
            count += cur.rowcount
        return count

    def extend_lease(self, notification_id: int, attempts: int, lease_until: datetime) -> bool:
        """Extend the lease of the claim ``attempts`` made; False when another claim (or the relay) took the row.

        The attempt number is the owner's token: a worker paused past its lease keeps the row only if nobody
        claimed it meanwhile, and one UPDATE decides, so a takeover and an extension never both succeed.
        """
        cur = self._run(
            "UPDATE notifications SET lease_until = :lease" + self._OWNED,
            {"lease": self._at(lease_until), "id": notification_id, "attempts": attempts},
        )
        return cur.rowcount == 1

    # The outcome of a send is recorded only by the claim that made it: the attempt number is the
    # owner's token, so a slow worker whose lease ran out cannot undo a later worker's 'sent'.
    _OWNED = " WHERE id = :id AND status = 'sending' AND attempts = :attempts"

    def mark_sent(self, notification_id: int, now: datetime, attempts: int) -> bool:
        cur = self._run(
            "UPDATE notifications SET status = 'sent', sent_at = :now, lease_until = NULL, last_error = NULL"
            + self._OWNED,
            {"now": self._at(now), "id": notification_id, "attempts": attempts},
        )
        return cur.rowcount == 1

    def mark_retry(self, notification_id: int, due_at: datetime, error: str, attempts: int) -> bool:
        cur = self._run(
            "UPDATE notifications SET status = 'pending', due_at = :due, lease_until = NULL, last_error = :error"
            + self._OWNED,
            {"due": self._at(due_at), "error": error[:2000], "id": notification_id, "attempts": attempts},
        )
        return cur.rowcount == 1

    def mark_failed(self, notification_id: int, error: str, attempts: int) -> bool:
        cur = self._run(
            "UPDATE notifications SET status = 'failed', lease_until = NULL, last_error = :error" + self._OWNED,
            {"error": error[:2000], "id": notification_id, "attempts": attempts},
        )
        return cur.rowcount == 1

    def listing(self, status: str | None, limit: int) -> list[tuple[Any, ...]]:
        where = " WHERE n.status = :status" if status else ""
        return list(
            self._run(
                "SELECT n.id, t.code, n.rule, n.level, n.recipient_id, n.channel, n.status, n.attempts, n.created_at, "
                "n.sent_at, n.last_error, n.subject FROM notifications n LEFT JOIN tasks t ON t.id = n.task_id"
                + where
                + " ORDER BY n.id DESC LIMIT :limit",
                {"status": status, "limit": limit},
            ).fetchall()
        )

    def requeue(self, ids: list[int] | None, now: datetime) -> int:
        """`duban notifications retry`: failed rows (all, or those named) go back to pending with fresh attempts."""
        if ids is None:
            cur = self._run(
                "UPDATE notifications SET status = 'pending', attempts = 0, due_at = :now WHERE status = 'failed'",
                {"now": self._at(now)},
            )
            return int(cur.rowcount)
        count = 0
        for i in ids:
            cur = self._run(
                "UPDATE notifications SET status = 'pending', attempts = 0, due_at = :now "
                "WHERE id = :id AND status = 'failed'",
                {"now": self._at(now), "id": i},
            )
            count += cur.rowcount
        return count
