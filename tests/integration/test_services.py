"""The services on real databases (SQLite file and PostgreSQL schema): every step stored and audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.errors import (
    BadFile,
    DefinitionError,
    InvalidInput,
    InvalidTransition,
    NoActor,
    NotPermitted,
    ProgressReportRequired,
    ReasonRequired,
    StaleTask,
    UnknownPerson,
    UnknownTask,
    UnknownUnit,
)
from duban.engine.services.co_units import co_unit_step
from duban.engine.services.org import import_org
from duban.engine.services.queries import TaskFilter, list_tasks, show_task
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from duban.engine.services.workspace import check_definitions, open_workspace
from duban.workflows import BUILTIN_DIR
from tests.conftest import DEPUTY, OTHER_UNIT_MEMBER, PRINCIPAL, SUPERVISOR, UNIT, UNIT_HEAD
from tests.helpers import check_history, new_task, snapshot, to_submitted


def test_lifecycle_is_stored_and_audited(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    code = new_task(app, co_units=["阳光社区党支部"], responsible_person="冯磊")
    assert code == "ZG-2026-0001"
    clock.advance(timedelta(days=1))
    fire(app, UNIT_HEAD, code, "start")
    clock.advance(timedelta(days=1))
    report_progress(app, UNIT_HEAD, code, ProgressInput(60, "已完成排查"))
    co_unit_step(app, OTHER_UNIT_MEMBER, code, "report", None, "已配合排查")  # 配合单位 report before the lead submits
    for actor, trigger, comment in [
        (UNIT_HEAD, "submit", None),
        (DEPUTY, "approve", "整改到位"),
        (DEPUTY, "close", None),
    ]:
        clock.advance(timedelta(days=1))
        fire(app, actor, code, trigger, comment=comment)
    detail = show_task(app, code, viewer=DEPUTY)
    assert detail.summary.state == "closed" and detail.summary.version == 7
    assert [(e.trigger, e.source, e.dest, e.actor) for e in detail.events] == [
        ("assign", None, "assigned", PRINCIPAL),
        ("start", "assigned", "in_progress", UNIT_HEAD),
        ("progress", "in_progress", "in_progress", UNIT_HEAD),
        ("co_report", "in_progress", "in_progress", OTHER_UNIT_MEMBER),
        ("submit", "in_progress", "submitted", UNIT_HEAD),
        ("approve", "submitted", "reviewed", DEPUTY),
        ("close", "reviewed", "closed", DEPUTY),
    ]
    assert [e.at for e in detail.events] == sorted(e.at for e in detail.events)
    assert all(e.at.utcoffset() == timedelta(0) for e in detail.events)
    assert detail.events[5].comment == "整改到位"
    assert detail.co_units == ["阳光社区党支部"] and detail.responsible_person == UNIT_HEAD
    assert detail.progress[0].percent == 60
    assert detail.allowed == ["reopen"]
    check_history(app)


def test_codes_count_per_workflow_and_year(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    assert [new_task(app) for _ in range(3)] == ["ZG-2026-0001", "ZG-2026-0002", "ZG-2026-0003"]
    bf = assign(
        app,
        PRINCIPAL,
        NewTask(
            title="一户一策",
            unit=UNIT,
            leader=DEPUTY,
            workflow="assistance",
            fields={
                "household": "何某某户",
                "households": "1",
                "people": "4",
                "assistance_measures": "生态护林员、教育帮扶",
            },
        ),
    )
    assert bf == "BF-2026-0001"
    clock.set(clock.now().replace(year=2027))
    assert new_task(app) == "ZG-2027-0001"
    assert show_task(app, bf).fields == {
        "household": "何某某户",
        "households": 1,
        "people": 4,
        "assistance_measures": ["生态护林员", "教育帮扶"],
    }


@pytest.mark.parametrize(
    ("actor", "code_state", "trigger", "comment", "error"),
    [
        (OTHER_UNIT_MEMBER, "assigned", "start", None, NotPermitted),
        (SUPERVISOR, "submitted", "approve", None, NotPermitted),
        (PRINCIPAL, "submitted", "approve", None, NotPermitted),  # a leader, but not the lead leader
        (DEPUTY, "assigned", "approve", None, InvalidTransition),
        (DEPUTY, "submitted", "reject", None, ReasonRequired),
        (UNIT_HEAD, "in_progress", "submit", None, ProgressReportRequired),
        (UNIT_HEAD, "in_progress", "progress", None, ProgressReportRequired),
        ("nobody", "assigned", "start", None, UnknownPerson),
        (None, "assigned", "start", None, NoActor),
        (DEPUTY, "assigned", "finish", None, Exception),
    ],
)
def test_refusals_change_nothing(app: App, actor, code_state, trigger, comment, error) -> None:  # type: ignore[no-untyped-def]
    code = new_task(app)
    if code_state == "in_progress":
        fire(app, UNIT_HEAD, code, "start")
    elif code_state == "submitted":
        to_submitted(app, code)
    before = snapshot(app)
    with pytest.raises(error) as info:
        fire(app, actor, code, trigger, comment=comment)
    assert info.value.render("en") and info.value.render("zh")
    assert snapshot(app) == before


def test_unknown_task(app: App) -> None:
    with pytest.raises(UnknownTask, match="no task with code ZG-2026-9999"):
        fire(app, DEPUTY, "ZG-2026-9999", "approve")


def test_assign_refusals_change_nothing(app: App) -> None:
    before = snapshot(app)
    cases = [
        (UNIT_HEAD, dict(title="x", unit=UNIT, leader=DEPUTY), NotPermitted),
        (PRINCIPAL, dict(title="x", unit="社会事务", leader=DEPUTY), UnknownUnit),
        (PRINCIPAL, dict(title="x", unit=UNIT, leader="zhangwie"), UnknownPerson),
        (PRINCIPAL, dict(title="x", unit=UNIT, leader=UNIT_HEAD), InvalidInput),
        (PRINCIPAL, dict(title="  ", unit=UNIT, leader=DEPUTY), InvalidInput),
        (PRINCIPAL, dict(title="x", unit=UNIT, leader=DEPUTY, co_units=["无此单位"]), UnknownUnit),
        (PRINCIPAL, dict(title="x", unit=UNIT, leader=DEPUTY, workflow="assistance"), InvalidInput),
        (
            PRINCIPAL,
            dict(
                title="x",
                unit=UNIT,
                leader=DEPUTY,
                workflow="assistance",
                fields={"household": "h", "households": "many"},
            ),
            InvalidInput,
        ),
        (
            PRINCIPAL,
            dict(
                title="x",
                unit=UNIT,
                leader=DEPUTY,
                workflow="assistance",
                fields={"household": "h", "assistance_measures": "发钱"},
            ),
            InvalidInput,
        ),
        (PRINCIPAL, dict(title="x", unit=UNIT, leader=DEPUTY, fields={"household": "h"}), InvalidInput),
    ]
    messages = []
    for actor, fields, error in cases:
        with pytest.raises(error) as info:
            assign(app, actor, NewTask(**fields))
        messages.append(info.value.render("en"))
    assert snapshot(app) == before
    assert "did you mean 社会事务科" in messages[1]
    assert "did you mean zhangwei" in messages[2]


def test_if_version_guards_against_acting_on_a_stale_read(app: App) -> None:
    code = new_task(app)
    fire(app, UNIT_HEAD, code, "start", if_version=1)
    before = snapshot(app)
    with pytest.raises(StaleTask) as info:
        fire(app, DEPUTY, code, "cancel", comment="重复", if_version=1)
    assert "changed since you read it (you read version 1, it is now 2)" in info.value.render("en")
    assert snapshot(app) == before


def test_optimistic_lock_on_postgres(pg_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """Read, let someone else commit, then try to write: the version check refuses."""
    from duban.engine.services.workspace import init_workspace
    from tests.conftest import ORG

    app = make_app(pg_url)
    init_workspace(app, ORG, single_desk=True)
    code = new_task(app)
    with app.uow() as uow:
        found = uow.tasks.for_firing(code, UNIT_HEAD)
        assert found is not None
        row, _actor = found
        fire(app, UNIT_HEAD, code, "start")  # another transaction commits meanwhile
        assert uow.tasks.advance(row.id, row.version, "cancelled", app.clock.now(), row.clock, row.head_hash) is False
        assert uow.tasks.current_version(row.id) == 2
    check_history(app)


def test_progress_evidence_is_content_addressed(app: App, tmp_path: Path) -> None:
    code = new_task(app)
    fire(app, UNIT_HEAD, code, "start")
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8 jpeg bytes")
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(photo.read_bytes())
    report_progress(app, UNIT_HEAD, code, ProgressInput(30, "排查完成", (photo, copy)))
    evidence = show_task(app, code).progress[0].evidence
    assert [e.name for e in evidence] == ["现场照片.jpg", "copy.jpg"]
    assert evidence[0].sha256 == evidence[1].sha256
    stored = app.evidence.path_of(evidence[0].sha256)
    assert stored.read_bytes() == photo.read_bytes() and app.evidence.verify(evidence[0].sha256)
    assert len([p for p in app.evidence.root.rglob("*") if p.is_file()]) == 1


def test_bad_progress_input_changes_nothing(app: App, tmp_path: Path) -> None:
    code = new_task(app)
    fire(app, UNIT_HEAD, code, "start")
    before = snapshot(app)
    for progress, error in [
        (ProgressInput(120, "x"), InvalidInput),
        (ProgressInput(50, "  "), InvalidInput),
        (ProgressInput(50, "x", (tmp_path / "missing.pdf",)), BadFile),
    ]:
        with pytest.raises(error):
            report_progress(app, UNIT_HEAD, code, progress)
    with pytest.raises(NotPermitted):
        report_progress(app, OTHER_UNIT_MEMBER, code, ProgressInput(50, "x"))
    assert snapshot(app) == before


def test_list_filters(app: App) -> None:
    a = new_task(app)
    b = new_task(app, unit="阳光社区党支部", leader=PRINCIPAL)
    fire(app, UNIT_HEAD, a, "start")
    assert [t.code for t in list_tasks(app, TaskFilter(states=("in_progress",)))] == [a]
    assert [t.code for t in list_tasks(app, TaskFilter(unit="阳光社区党支部"))] == [b]
    assert [t.code for t in list_tasks(app, TaskFilter(mine_for=UNIT_HEAD))] == [a]
    assert [t.code for t in list_tasks(app, TaskFilter(mine_for=PRINCIPAL))] == [b]
    with pytest.raises(InvalidInput, match="'open' is not a state"):
        list_tasks(app, TaskFilter(states=("open",)))


def test_org_import_is_all_or_nothing_and_admin_only(app: App, tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "units": [{"name": "新网格", "parent": "阳光社区党支部"}],
                "people": [
                    {"id": "a1", "name": "甲", "unit": "新网格", "roles": ["unit_head"]},
                    {"id": "a1", "name": "乙", "unit": "新网格", "roles": ["unit_member"]},
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    before = snapshot(app)
    with pytest.raises(BadFile, match=r"people\[1\]\.id: person id 'a1' is used twice"):
        import_org(app, bad, "zhouqiang")
    good = tmp_path / "good.yaml"
    good.write_text(
        yaml.safe_dump(
            {
                "units": [{"name": "新网格", "parent": "阳光社区党支部", "head": "a1"}],
                "people": [{"id": "a1", "name": "甲", "unit": "新网格", "roles": ["unit_head"]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    with pytest.raises(NotPermitted):
        import_org(app, good, PRINCIPAL)
    assert snapshot(app) == before
    counts = import_org(app, good, "zhouqiang")  # the admin
    assert (counts.units_added, counts.people_added) == (1, 1)
    assert new_task(app, unit="新网格")


def test_org_csv_sheets(sqlite_app: App, tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text("单位,上级单位,负责人\n第三网格,阳光社区党支部,\n", encoding="utf-8-sig")
    people = tmp_path / "people.csv"
    people.write_text(
        "编号,姓名,单位,角色,邮箱\nzs,张三,第三网格,unit_head;unit_member,zs@example.gov.cn\n", encoding="gb18030"
    )
    import_org(sqlite_app, units, "zhouqiang")
    import_org(sqlite_app, people, "zhouqiang")
    code = new_task(sqlite_app, unit="第三网格")
    fire(sqlite_app, "zs", code, "start")
    cyclic = tmp_path / "cyclic.yaml"
    cyclic.write_text("units:\n  - {name: A, parent: B}\n  - {name: B, parent: A}\n", encoding="utf-8")
    with pytest.raises(BadFile, match="cycle"):
        import_org(sqlite_app, cyclic, "zhouqiang")


def test_changed_definition_must_keep_states_in_use(app: App, tmp_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    code = new_task(app)
    to_submitted(app, code)
    doc = yaml.safe_load((BUILTIN_DIR / "rectification.yaml").read_text(encoding="utf-8"))
    doc["states"] = [s for s in doc["states"] if s["key"] != "submitted"]
    doc["transitions"] = [t for t in doc["transitions"] if t["trigger"] not in ("submit", "approve", "reject")]
    doc["transitions"].append(
        {
            "trigger": "submit",
            "zh": "提交",
            "en": "submit",
            "source": "in_progress",
            "dest": "reviewed",
            "who": [{"roles": ["unit_head"]}],
        }
    )
    (tmp_path / "wf").mkdir()
    (tmp_path / "wf" / "rectification.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    changed = make_app(app.settings.database_url)
    changed.settings = Settings(database_url=app.settings.database_url, workflow_dirs=(tmp_path / "wf",))
    from duban.engine.domain.registry import WorkflowRegistry

    changed.registry = WorkflowRegistry.from_dirs([tmp_path / "wf"])
    with pytest.raises(DefinitionError) as info:
        open_workspace(changed)
    assert "state 'submitted' was removed, but 1 stored task(s)" in info.value.render("en")
    # once no task is in the state any more, the same definition is accepted
    fire(app, DEPUTY, code, "approve")
    check_definitions(changed)
    with app.db.engine.connect() as conn:
        versions = conn.execute(text("SELECT count(*) FROM workflow_versions WHERE name = 'rectification'")).scalar()
    assert versions == 2
