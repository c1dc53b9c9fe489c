"""The words of a circular, in both languages, in one place so every format says the same."""

from __future__ import annotations

from duban.engine.domain.report import Report
from duban.engine.domain.text import Bilingual, Lang

TITLE = Bilingual("整改任务进展情况通报（{period}）", "Rectification progress circular ({period})")
PERIOD_LINE = Bilingual("统计时段：{period}", "Period: {period}")
NOTES = Bilingual("说明", "Notes")

# Sections
SUMMARY = Bilingual("总体情况", "Summary")
UNITS = Bilingual("各单位进展", "Progress by unit")
OVERDUE = Bilingual("逾期任务点名通报", "Overdue tasks named")
CLOSED_IN_PERIOD = Bilingual("本期销号", "Closed this period")
NEW_IN_PERIOD = Bilingual("本期新增", "New this period")
EXTENSIONS_IN_PERIOD = Bilingual("本期延期", "Extensions this period")
CHANGE = Bilingual("与上期对比", "Change since the previous period")
BY_CATEGORY = Bilingual("按问题类别", "By category")
BY_SOURCE = Bilingual("按问题来源", "By source")
SUSPENDED = Bilingual("挂起任务", "Suspended tasks")
PERIODIC_REPORTS = Bilingual("定期填报情况", "Periodic reports")
REPORTS_DUE = Bilingual("应报", "due")
REPORTS_ON_TIME = Bilingual("按时报送", "on time")
REPORTS_LATE = Bilingual("迟报", "late")
REPORTS_MISSED = Bilingual("漏报", "missed")
MISSED_TASKS = Bilingual("漏报任务", "tasks with a missed report")
SUSPENDED_SINCE = Bilingual("挂起日期", "suspended since")
SUSPENDED_REASON = Bilingual("挂起原因", "reason")
CO_UNIT_LATE = Bilingual("配合单位迟报情况", "Co-units late with their parts")
LEAD_UNIT = Bilingual("牵头单位", "lead unit")
CO_UNIT = Bilingual("配合单位", "co-unit")
REPORT_BY = Bilingual("报送期限", "report by")
REPORTED_ON = Bilingual("报送日期", "reported on")
DAYS_LATE = Bilingual("迟报工作日", "working days late")
NOT_REPORTED = Bilingual("未报送", "not reported")
BY_CAMPAIGN = Bilingual("按专项", "By campaign")
SCORES = Bilingual("考核评分排名", "Ranking by score")
SCORE = Bilingual("得分", "score")
BAND = Bilingual("等次", "band")
SCORE_POLICY = Bilingual(
    "评分办法：{name}（第{version}版，校验码 {hash}）", "Scoring policy: {name}, version {version} (hash {hash})"
)
ACCOUNTABILITY = Bilingual("问责情况", "Accountability")
RECORD_NO = Bilingual("编号", "number")
TASK_CODE = Bilingual("任务编号", "task")
ACCOUNTABILITY_KIND = Bilingual("问责方式", "kind")
PERSONS = Bilingual("相关人员", "persons concerned")
DECISION = Bilingual("处理决定", "decision")
DECIDED_ON = Bilingual("决定日期", "decided")
STATUS = Bilingual("状态", "status")
RECORD_STATUS = {"open": Bilingual("办理中", "open"), "closed": Bilingual("已办结", "closed")}
WORKFLOW_PROGRESS = Bilingual("{workflow}进展情况", "{workflow}: progress (not counted above)")

# The units table
RANK = Bilingual("排名", "rank")
UNIT = Bilingual("单位", "unit")
TASKS = Bilingual("任务数", "tasks")
CLOSED = Bilingual("已销号", "closed")
NOT_STARTED = Bilingual("未签收", "not signed for")
IN_PROGRESS = Bilingual("整改中", "in progress")
SUBMITTED = Bilingual("待审核", "awaiting review")
REVIEWED = Bilingual("待销号", "reviewed, awaiting closing")
OVERDUE_COUNT = Bilingual("逾期", "overdue")
COMPLETION_RATE = Bilingual("完成率", "completion rate")
ON_TIME_RATE = Bilingual("按期完成率", "on-time rate")
LIGHT = Bilingual("灯", "light")
LAGGING = Bilingual("滞后", "lagging")
TOTAL = Bilingual("合计", "total")
LIGHTS = {
    "red": Bilingual("红", "red"),
    "yellow": Bilingual("黄", "yellow"),
    "green": Bilingual("绿", "green"),
}

# Tasks named: overdue, closed, new, extended
CODE = Bilingual("编号", "code")
TASK = Bilingual("任务", "task")
RESPONSIBLE_UNIT = Bilingual("责任单位", "unit")
LEAD_LEADER = Bilingual("责任领导", "lead leader")
DEADLINE = Bilingual("整改时限", "deadline")
DAYS_OVERDUE = Bilingual("逾期工作日", "working days overdue")
ESCALATION_LEVEL = Bilingual("督办级别", "escalation level")
OMITTED = Bilingual("及其他{n}项", "and {n} more")
CLOSED_ON = Bilingual("销号日期", "closed on")
ASSIGNED_ON = Bilingual("交办日期", "assigned on")
EXTENDED_ON = Bilingual("延期日期", "extended on")
DEADLINE_CHANGE = Bilingual("时限调整", "deadline change")
NONE_THIS_PERIOD = Bilingual("无", "none")

# Change since the previous period
PREVIOUS_PERIOD = Bilingual("上期：{period}", "previous period: {period}")
RATE_NOW = Bilingual("本期完成率", "completion rate now")
RATE_BEFORE = Bilingual("上期完成率", "completion rate before")
RATE_CHANGE = Bilingual("完成率变化（百分点）", "change (points)")
OVERDUE_NOW = Bilingual("本期逾期", "overdue now")
OVERDUE_BEFORE = Bilingual("上期逾期", "overdue before")
OVERDUE_CHANGE = Bilingual("逾期变化", "change in overdue")

CATEGORY = Bilingual("问题类别", "category")
SOURCE = Bilingual("问题来源", "source")
CAMPAIGN = Bilingual("专项", "campaign")

# The chart
CHART_TITLE = Bilingual("各单位整改进展（{period}）", "Progress by unit ({period})")
CHART_OPEN = Bilingual("整改中（未逾期）", "open, not overdue")
CHART_AXIS = Bilingual("任务数", "tasks")


def title(report: Report, lang: Lang) -> str:
    return TITLE.pick(lang).format(period=report.period.label(lang))


def period_line(report: Report, lang: Lang) -> str:
    return PERIOD_LINE.pick(lang).format(period=report.period.label(lang))
