"""``duban demo``: a workspace with the sample organisation and ledger, and six weeks of work played out.

Time is simulated with a FixedClock moved forward day by day, so the run is
the same every time and every event carries a plausible office-hours time.
Every step goes through the same services the CLI calls; the demo has no
shortcuts into the database.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from duban.workflows import BUILTIN_DIR

from .app import App
from .config.settings import Settings
from .domain.accountability import NotRedLevel, red_level
from .domain.clock import FixedClock
from .domain.errors import BadFile
from .domain.text import Bilingual
from .ledger.rows import LedgerRow, derive_title
from .services import org as org_service
from .services.accountability import open_record
from .services.circulars import circular_file, issue_due, list_circulars
from .services.delivery import deliver_pending
from .services.instructions import register_instruction
from .services.ledger import ImportOptions, read_ledger
from .services.queries import TaskFilter, TaskSummary, list_tasks
from .services.sweep import sweep
from .services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from .services.transfers import reassign, return_task
from .services.workspace import init_workspace

CAMPAIGN = "2026年主题教育整改"
START = date(2026, 9, 7)  # a Monday
WEEKS = 6
PRINCIPAL = "wangjun"
SUPERVISOR = "huangtao"  # 督查室
SUPERVISION_CLERK = "huangtao"  # 督查室 registers leaders' instructions
REASSIGN_TO = "督查室"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCORING = BUILTIN_DIR / "policies" / "scoring.yaml"  # the demo's circulars rank the units by score


@dataclass
class DemoWeek:
    zh: str
    en: str
    actions: Counter[str] = field(default_factory=Counter)

    @property
    def label(self) -> str:
        """Both languages, as the JSON output has always said it."""
        return f"{self.zh} / {self.en}" if self.en else self.zh


@dataclass
class DemoResult:
    folder: Path
    database: Path
    weeks: list[DemoWeek]
    tasks: list[TaskSummary]
    app: App
    notices: Path
    circular: int | None = None  # the circular for the last week, issued on the Monday after
    circular_files: list[Path] = field(default_factory=list)
    web_accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (sign-in name, role, password)
    accountability: list[str] = field(default_factory=list)  # the records the supervision office opened (问责)
    red_notice: Path | None = None  # the first red supervision notice (红色督办单), as a Word document
    notice_count: int = 0  # supervision notices (督办单) the sweeps issued


class _Story:
    """The weeks of work, told through the services."""

    def __init__(self, app: App, clock: FixedClock, tz: ZoneInfo, folder: Path) -> None:
        self.app, self.clock, self.tz, self.folder = app, clock, tz, folder
        view = org_service.org_view(app)
        self.unit_people: dict[str, list[str]] = {}
        self.names = {p.id: p.name for p in view.people}
        for p in view.people:
            if p.unit and {"unit_head", "unit_member"} & set(p.roles):
                self.unit_people.setdefault(p.unit, []).append(p.id)
        self.percent: dict[str, int] = {}
        self.rejected: set[str] = set()
        self.returned: str | None = None
        self.suspended: str | None = None
        self.week = DemoWeek("", "")
        self.accountability: list[str] = []

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.clock.set(datetime.combine(day, time(hour, minute), self.tz))

    def worker(self, unit: str, i: int) -> str:
        people = self.unit_people[unit]
        return people[i % len(people)]

    def do(self, action: str, fn, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        fn(*args, **kwargs)
        self.week.actions[action] += 1

    def evidence(self, name: str, text: str) -> Path:
        path = self.folder / "evidence-samples" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def play(self, ledger: list[LedgerRow]) -> list[DemoWeek]:
        weeks = []
        self.week = DemoWeek(f"{START.isoformat()} 交办", f"{START.isoformat()} assign")
        self.at(START, 9)
        for row in ledger:
            self.do(
                "assign",
                assign,
                self.app,
                PRINCIPAL,
                NewTask(
                    title=row.title or derive_title(row.problem or ""),
                    problem=row.problem,
                    unit=row.unit,
                    leader=row.leader_id,
                    deadline=row.deadline,
                    category=row.category,
                    campaign=CAMPAIGN,
                    measures=row.measures,
                    co_units=list(row.co_units),
                    responsible_person=row.person_id,
                    priority=row.priority,
                ),
            )
            self.clock.advance(timedelta(minutes=3))
        self.do(
            "assign",
            assign,
            self.app,
            PRINCIPAL,
            NewTask(
                workflow="assistance",
                title="脱贫监测户一户一策帮扶",
                unit="东城社区党支部",
                leader="陈静",
                deadline=date(2026, 12, 31),
                campaign=CAMPAIGN,
                category="帮扶",
                measures=["落实生态护林员岗位", "申请教育帮扶资助"],
                fields={
                    "household": "东城社区3组 何某某户",
                    "households": "1",
                    "people": "4",
                    "assistance_measures": "生态护林员、教育帮扶",
                },
            ),
        )
        # 领导批示: the county leader's instruction on the streetlights, registered by the supervision office first
        # and turned into a task that points back to it.
        self.clock.advance(timedelta(minutes=10))
        instruction = register_instruction(
            self.app,
            SUPERVISION_CLERK,
            leader=PRINCIPAL,
            text="群众反映夜间照明不足，请社会事务科牵头尽快解决。",
            ref="县领导批示件〔2026〕3号",
            issued_on=START - timedelta(days=3),
        )
        self.week.actions["instruction"] += 1
        self.do(
            "assign",
            assign,
            self.app,
            PRINCIPAL,
            NewTask(
                title="落实领导批示：背街小巷夜间照明不足",
                unit="社会事务科",
                leader="张伟",
                deadline="20个工作日内",
                campaign=CAMPAIGN,
                category="民生问题",
                measures=["排查背街小巷照明盲区", "增设路灯并纳入日常维护"],
                instruction=instruction,
            ),
        )
        weeks.append(self.week)
        for w in range(1, WEEKS + 1):
            monday = START + timedelta(weeks=w)
            self.week = DemoWeek(f"{monday.isoformat()} 第{w}周", f"{monday.isoformat()} week {w}")
            self.play_week(w, monday)
            weeks.append(self.week)
        return weeks

    def tasks(self, *states: str) -> list[TaskSummary]:
        return list_tasks(self.app, TaskFilter(states=states))

    def morning_sweep(self, day: date) -> None:
        """What the beat does each morning: reminders and escalations into the outbox, then delivered."""
        self.at(day, 9, 5)
        result = sweep(self.app)
        self.week.actions["reminders"] += result.notifications - result.escalations
        self.week.actions["escalations"] += result.escalations
        self.week.actions["circulars"] += len(issue_due(self.app))
        deliver_pending(self.app)

    def play_week(self, w: int, monday: date) -> None:
        for offset in range(7):
            day = monday + timedelta(days=offset)
            if self.app.calendar.is_working_day(day):
                self.morning_sweep(day)
        self._work(w, monday)

    def _work(self, w: int, monday: date) -> None:
        """The week's work, day by day, then what happens in one week only."""
        self._close(monday)
        self._sign_for(w, monday + timedelta(days=1))
        self._report(w, monday + timedelta(days=2))
        self._submit(monday + timedelta(days=3))
        self._review(monday + timedelta(days=4))
        self._week_events(w)

    def _close(self, monday: date) -> None:
        """Monday: lead leaders close what they approved last week."""
        self.at(monday, 9)
        for t in self.tasks("reviewed"):
            self.do("close", fire, self.app, t.leader, t.code, "close", comment="整改到位，同意销号")

    def _sign_for(self, w: int, tuesday: date) -> None:
        """Tuesday: units sign for their new tasks (a few late ones only in week 2)."""
        self.at(tuesday, 10)
        for i, t in enumerate(self.tasks("assigned")):
            if w == 1 and i == 1 and t.workflow == "rectification":  # 退办: not this unit's duty
                self.returned = t.code
                self.do("return", return_task, self.app, self.worker(t.unit, i), t.code, "该事项属其他单位职责")
                continue
            if w == 1 and i % 6 == 5 or w < 4 and i % 10 == 7:
                continue  # some units sign late
            self.do("start", fire, self.app, self.worker(t.unit, i), t.code, "start", comment="已签收，制定整改方案")

    def _report(self, w: int, wednesday: date) -> None:
        """Wednesday: the returned task is handed on in the morning; progress reports, some with evidence."""
        if w == 1 and self.returned:  # the lead leader hands it to the supervision office's own unit
            self.at(wednesday, 9, 30)
            leader = next(t.leader for t in self.tasks("returned") if t.code == self.returned)
            self.do("reassign", reassign, self.app, leader, self.returned, REASSIGN_TO, "改由督查室牵头督促落实")
        self.at(wednesday, 15)
        for i, t in enumerate(self.tasks("in_progress")):
            step = (12, 18, 25, 35)[int(t.code[-2:]) % 4]  # each unit has its pace
            self.percent[t.code] = min(100, self.percent.get(t.code, 0) + step)
            pct = self.percent[t.code]
            files = (
                (self.evidence(f"{t.code}-第{w}周.txt", f"{t.title}：第{w}周整改现场记录，完成{pct}%。"),)
                if i % 3 == 0
                else ()
            )
            self.do(
                "progress",
                report_progress,
                self.app,
                self.worker(t.unit, i),
                t.code,
                ProgressInput(pct, f"第{w}周：{'已完成全部整改措施' if pct >= 100 else '按计划推进整改措施'}", files),
            )

    def _submit(self, thursday: date) -> None:
        """Thursday: finished work goes to review."""
        self.at(thursday, 11)
        for i, t in enumerate(self.tasks("in_progress")):
            if self.percent.get(t.code, 0) >= 100:
                self.do("submit", fire, self.app, self.worker(t.unit, i), t.code, "submit", comment="申请验收")

    def _review(self, friday: date) -> None:
        """Friday: lead leaders review; every third task is sent back once; the red level is called to account."""
        self.at(friday, 16)
        for t in self.tasks("submitted"):
            if int(t.code[-2:]) % 3 == 0 and t.code not in self.rejected:
                self.rejected.add(t.code)
                self.percent[t.code] = 85
                self.do(
                    "reject",
                    fire,
                    self.app,
                    t.leader,
                    t.code,
                    "reject",
                    comment="佐证材料不完整，请补充整改前后对比照片",
                )
            else:
                self.do("approve", fire, self.app, t.leader, t.code, "approve", comment="经现场核查，整改到位")
        if not self.accountability:
            self.hold_to_account(friday)

    def _week_events(self, w: int) -> None:
        """Once in the six weeks: a cancellation and a suspension (week 2), the resumption (4), a reopening (5)."""
        if w == 2:
            open_ones = [t for t in self.tasks("in_progress") if t.workflow == "rectification"]
            if open_ones:
                t = open_ones[len(open_ones) // 2]
                self.do("cancel", fire, self.app, PRINCIPAL, t.code, "cancel", comment="与其他问题重复，合并整改")
        if w == 2:  # 挂起: one task waits on another body's approval, resumed two weeks later
            waiting = [t for t in self.tasks("in_progress") if t.workflow == "rectification" and t.leader]
            if waiting:
                t = waiting[0]
                self.suspended = t.code
                self.do("suspend", fire, self.app, t.leader, t.code, "suspend", comment="等待县住建局审批改造方案")
        if w == 4 and self.suspended:
            held = next((x for x in self.tasks("suspended") if x.code == self.suspended), None)
            if held is not None:
                self.do("resume", fire, self.app, held.leader, held.code, "resume", comment="方案已获批复，恢复办理")
        if w == 5:
            closed = self.tasks("closed")
            if closed:
                t = closed[0]
                self.percent[t.code] = 60
                self.do("reopen", fire, self.app, PRINCIPAL, t.code, "reopen", comment="回头看发现问题反弹，重新整改")

    def hold_to_account(self, friday: date) -> None:
        """The supervision office (督查室) calls in the unit of the first task to reach the red level (约谈)."""
        self.at(friday, 17)
        for t in list_tasks(self.app, TaskFilter(lights=("red",))):
            if t.escalation_level < red_level(self.app.registry.spec(t.workflow).deadlines):
                continue  # not escalated to the top yet: the office waits (a refusal would only clutter the record)
            try:
                record = open_record(
                    self.app,
                    SUPERVISOR,
                    t.code,
                    kind="约谈",
                    persons=[self.names[self.worker(t.unit, 0)]],
                    decision=f"约谈{t.unit}负责人，责令三个工作日内报送整改方案",
                )
            except NotRedLevel:
                continue
            self.accountability.append(record.number)
            self.week.actions["accountability"] += 1
            return


def run_demo(folder: Path, examples: Path | None = None, timezone: str = "Asia/Shanghai") -> DemoResult:
    examples = examples or EXAMPLES
    org_file, ledger_file = examples / "org.yaml", examples / "ledger.csv"
    schedules = examples / "circulars.yaml"
    for f in (org_file, ledger_file):
        if not f.is_file():
            raise BadFile(
                f,
                Bilingual(
                    "示例文件不存在；请用 --examples 指定含 org.yaml 和 ledger.csv 的文件夹",
                    "sample file not found; pass --examples DIR with org.yaml and ledger.csv",
                ),
            )
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "duban.db"
    marker = folder / ".duban-demo"
    if database.exists() and not marker.exists():
        raise BadFile(
            folder,
            Bilingual(
                "内有一个不是演示生成的 duban.db；演示会重建所在文件夹，请用 --dir 另指一个文件夹",
                "holds a duban.db that the demo did not make; the demo rebuilds its folder, "
                "so give it another one with --dir",
            ),
        )
    marker.write_text("This folder is rebuilt by 'duban demo'.\n", encoding="utf-8")
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(folder / "duban-evidence", ignore_errors=True)
    notices = folder / "notifications.jsonl"
    notices.unlink(missing_ok=True)
    settings = Settings(
        database_url=str(database),
        timezone=timezone,
        channels=("file",),
        extra={"DUBAN_NOTIFY_FILE": str(notices), "DUBAN_SCORING": str(SCORING)},
        circulars=schedules if schedules.is_file() else None,
    )
    tz = ZoneInfo(timezone)
    clock = FixedClock(datetime.combine(START, time(8, 30), tz))
    app = App.build(settings, clock=clock)
    init_workspace(app, org_file, single_desk=True)  # one simulated office: people act as the story says
    # The importer's own reading and checks; the story then assigns each row, so it starts with 交办.
    ledger = read_ledger(app, ledger_file, ImportOptions(campaign=CAMPAIGN))
    story = _Story(app, clock, tz, folder)
    weeks = story.play(ledger)
    result = DemoResult(folder, database, weeks, list_tasks(app, TaskFilter()), app, notices)
    result.accountability = story.accountability
    _keep_red_notice(app, folder, result)
    story.at(START + timedelta(weeks=WEEKS + 1), 9, 5)  # the Monday after: the beat issues last week's circular
    issue_due(app)
    deliver_pending(app)
    _keep_last_circular(app, folder, result)
    result.web_accounts = _web_accounts(app)
    return result


# Who to sign in as in the browser after the demo (duban serve --db duban-demo/duban.db): each sets their own.
DEMO_PASSWORD = "duban-demo-2026"
DEMO_PEOPLE = (("zhangwei", "leader"), ("fenglei", "unit_head"), ("huangtao", "supervisor"))


def _web_accounts(app: App) -> list[tuple[str, str, str]]:
    from .services.accounts import set_password

    for person, _role in DEMO_PEOPLE:
        set_password(app, person, person, DEMO_PASSWORD)
    return [(person, role, DEMO_PASSWORD) for person, role in DEMO_PEOPLE]


def _keep_red_notice(app: App, folder: Path, result: DemoResult) -> None:
    """The first red supervision notice the sweeps issued, written out as the office would send it."""
    from .reporting.notice_docx import notice_docx
    from .services.supervision_notices import list_notices

    views = list_notices(app)
    result.notice_count = len(views)
    red = next((v for v in views if v.notice.color == "red"), None)
    if red is not None:
        path = folder / f"红色督办单-{red.notice.year}-{red.notice.seq}.docx"
        path.write_bytes(notice_docx(red.notice, red.reply))
        result.red_notice = path


def _keep_last_circular(app: App, folder: Path, result: DemoResult) -> None:
    """The weekly circular as an office would file it: the Word document and the chart (SVG), in the demo folder."""
    weekly = list_circulars(app, "weekly")
    if not weekly:
        return
    result.circular = weekly[0].id
    for suffix in (".docx", ".svg"):
        stored = circular_file(app, weekly[0].id, suffix)
        if stored is not None:
            path = folder / stored.name
            path.write_bytes(stored.content)
            result.circular_files.append(path)
