"""The errors a user can cause, each with a bilingual one-line message.

Every refusal the engine makes is one of these, so the CLI can print one clear
line (what, where, how to fix) and exit non-zero without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from .text import Bilingual, Lang, pick


class DubanError(Exception):
    """Base of every expected, user-facing error."""

    zh: ClassVar[str] = "{detail}"
    en: ClassVar[str] = "{detail}"
    exit_code: ClassVar[int] = 1

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.render("en"))

    def render(self, lang: Lang = "en") -> str:
        template = self.zh if lang == "zh" else self.en
        return template.format(**{k: pick(v, lang) for k, v in self.params.items()})


# --- lookups -----------------------------------------------------------------


class NotFound(DubanError):
    exit_code = 3


class UnknownToken(NotFound):
    zh = "没有编号为 {id} 的 API 令牌（编号见 duban account tokens）"
    en = "no API token with id {id} (see duban account tokens)"


class UnknownTask(NotFound):
    zh = "没有编号为 {code} 的任务；用 'duban list' 查看现有任务"
    en = "no task with code {code}; 'duban list' shows the existing tasks"


class UnknownInstruction(NotFound):
    zh = "没有编号为 {code} 的领导批示；用 'duban instruction list' 查看已登记的批示"
    en = "no leader's instruction with code {code}; 'duban instruction list' shows those registered"


class UnknownPerson(NotFound):
    zh = "组织中没有人员 '{person}'{near}；用 'duban org show' 查看人员编号"
    en = "no person '{person}' in the organisation{near}; 'duban org show' lists people's ids"


class UnknownUnit(NotFound):
    zh = "组织中没有单位 '{unit}'{near}；用 'duban org show' 查看单位"
    en = "no unit '{unit}' in the organisation{near}; 'duban org show' lists the units"


class UnknownWorkflow(NotFound):
    zh = "没有名为 '{name}' 的流程定义（现有：{known}）"
    en = "no workflow definition named '{name}' (known: {known})"


class UnknownTrigger(NotFound):
    zh = "流程 {workflow} 没有操作 '{trigger}'（可用：{known}）"
    en = "workflow {workflow} has no trigger '{trigger}' (known: {known})"


# --- refusals of a firing ----------------------------------------------------


class NotPermitted(DubanError):
    exit_code = 4
    zh = "{actor} 无权对任务 {code} 执行“{action}”：需要 {rule}"
    en = "{actor} may not {action} task {code}: it takes {rule}"


class UnmappedOperator(DubanError):
    exit_code = 4
    zh = "操作账号 {account} 未对应组织文件中的任何人员；请在该人员下加上 accounts: [{account}] 后重新导入组织文件"
    en = "the account {account} operating duban is nobody in the organisation; add accounts: [{account}] to that person and import the organisation again"


class FixedClockRefused(DubanError):
    exit_code = 2
    zh = (
        "此工作区不是单机模式，不接受固定时钟（DUBAN_NOW 或 sweep --now）：否则任何人都能倒签操作时间；"
        "请取消 DUBAN_NOW；测试工作区可由管理员执行 duban init --allow-fixed-clock 开启"
    )
    en = (
        "this workspace is not single-desk, so a fixed clock (DUBAN_NOW or sweep --now) is refused: whoever sets "
        "the clock could backdate their steps; unset DUBAN_NOW, or for a test workspace an admin runs "
        "duban init --allow-fixed-clock"
    )


class AnchorForged(DubanError):
    exit_code = 8
    zh = "工作区保存的最新锚点（{at}，第 {seq} 条）签名不符：它被篡改过，或 DUBAN_AUDIT_KEY 不是生成它时的密钥"
    en = (
        "the latest anchor the workspace keeps ({at}, entry {seq}) has a signature that does not match: it was "
        "forged or altered, or DUBAN_AUDIT_KEY is not the key it was made with"
    )


class NotRecorder(DubanError):
    exit_code = 4
    zh = "{operator} 无权代 {person} 操作：代录需要“代录员”（recorder）角色"
    en = "{operator} may not act for {person}: acting for someone else (代录) takes the recorder role"


class InvalidTransition(DubanError):
    exit_code = 5
    zh = "任务 {code} 当前为“{state}”，不能执行“{action}”；此状态可执行：{allowed}"
    en = "task {code} is {state}, where '{action}' is not allowed; allowed from {state}: {allowed}"


class RequirementNotMet(DubanError):
    exit_code = 5


class ReasonRequired(RequirementNotMet):
    zh = '对任务 {code} 执行“{action}”须说明理由：加上 --comment "理由"（延期申请用 --reason）'
    en = "'{action}' on task {code} needs a reason: add --comment \"why\" (--reason for duban extend)"


class ProgressReportRequired(RequirementNotMet):
    zh = "任务 {code} 尚无进展报送，不能{action}：先用 'duban progress {code} --percent N --note …' 报送进展"
    en = "task {code} has no progress report yet, so it cannot be {action}: first run 'duban progress {code} --percent N --note …'"


class CommandRequired(RequirementNotMet):
    zh = "“{action}”须通过专门的命令执行：{command}"
    en = "'{action}' is done through its own command: {command}"


class CoUnitsPending(RequirementNotMet):
    zh = "任务 {code} 的配合单位 {units} 尚未报送配合情况，不能{action}：待其用 'duban co-unit report {code}' 报送，或由责任领导用 'duban co-unit waive {code} --unit … -m 理由' 免于配合"
    en = "'{action}' on task {code} waits for co-unit(s) {units} to report on their part: they report with 'duban co-unit report {code}', or the lead leader waives one with 'duban co-unit waive {code} --unit … -m reason'"


class NotACoUnit(RequirementNotMet):
    zh = "{unit} 不是任务 {code} 的配合单位（配合单位：{known}）"
    en = "{unit} is not a co-unit of task {code} (co-units: {known})"


class CoUnitPartDone(RequirementNotMet):
    zh = "任务 {code} 中 {unit} 的配合部分已{state}，不能再{action}"
    en = "{unit}'s part of task {code} is already {state}; it cannot be {action} again"


class SubTasksOpen(RequirementNotMet):
    """分解: the parent waits for its sub-tasks (or a leader closes them out: duban close-out)."""

    zh = "任务 {code} 尚有未办结的子任务 {open}，不能{action}；待其销号，或由领导用 'duban close-out 子任务编号 -m 理由' 核销"
    en = (
        "task {code} has open sub-tasks {open}: '{action}' waits until they are closed, "
        "or a leader closes each out with 'duban close-out SUBTASK -m REASON'"
    )


class StaleTask(DubanError):
    exit_code = 6
    zh = "任务 {code} 在您读取后已被他人修改（读取时版本 {expected}，现为 {actual}）；请重新查看后再操作"
    en = "task {code} changed since you read it (you read version {expected}, it is now {actual}); look at it again and retry"


# --- bad input ----------------------------------------------------------------


class InvalidInput(DubanError):
    exit_code = 2
    zh = "{what} 无效：{detail}"
    en = "invalid {what}: {detail}"


class BadFile(DubanError):
    exit_code = 2
    zh = "{file}：{where}{detail}"
    en = "{file}: {where}{detail}"

    def __init__(self, file: object, detail: object, key: str | Bilingual | None = None, **params: Any) -> None:
        where: str | Bilingual = ""
        if isinstance(key, Bilingual):
            where = Bilingual(f"{key.zh}：", f"{key.en}: ")
        elif key:
            where = Bilingual(f"{key}：", f"{key}: ")
        super().__init__(file=file, detail=detail, where=where, **params)


class DefinitionError(BadFile):
    """A workflow definition that does not validate; names the file and the key."""


class NoActor(DubanError):
    exit_code = 2
    zh = "未指明操作人：加上 --as 人员编号，或设置环境变量 DUBAN_USER"
    en = "who is acting? add --as PERSON_ID or set DUBAN_USER"


# --- the store -------------------------------------------------------------------


class StoreError(DubanError):
    exit_code = 7
    zh = "数据库 {db}：{detail}"
    en = "database {db}: {detail}"


class UnknownCircular(NotFound):
    zh = "没有编号为 {id} 的通报；用 'duban circulars list' 查看"
    en = "no circular {id}; see 'duban circulars list'"


class UnknownExtension(NotFound):
    zh = "没有编号为 {id} 的延期申请；用 'duban extension list' 查看"
    en = "no extension request {id}; 'duban extension list' shows them"


class ExtensionConflict(DubanError):
    exit_code = 5
    zh = "{detail}"
    en = "{detail}"


def unknown_state(state: str, known: Iterable[str]) -> Bilingual:
    """The detail of a state filter naming no state: which ones there are."""
    keys = sorted(known)
    return Bilingual(
        f"'{state}' 不是状态（现有：{'、'.join(keys)}）", f"'{state}' is not a state (states: {', '.join(keys)})"
    )
