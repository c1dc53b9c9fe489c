"""Chinese all the way through: click's own words, and every command's --help, under ``--lang zh``.

Click asks ``gettext`` for its messages (usage errors, help headings); here its modules get a
``gettext`` that answers in Chinese while the chosen language is zh. The help texts of every
command are kept in one table keyed by command path, so no command module has to change for
its help to be read in Chinese; ``localize`` puts the chosen language's texts on the commands.
"""

from __future__ import annotations

import re

import click

from duban.engine.domain.text import Lang

_lang: Lang = "en"

# click 8.x message ids, as click writes them, and how they read in Chinese
CLICK_ZH: dict[str, str] = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Confirm the action without prompting.": "不经询问直接确认。",
    "Aborted!": "已中止！",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用 '{command} {option}' 查看帮助。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such option: {name}": "没有选项：{name}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是否要用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否要用其中之一：{possibilities}？）",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 之中。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数",
    "float": "数字",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 之内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值；可用：{states}",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合格式 {formats} 之一。",
    # click names the kind ("File") when the option is made, which may be before Chinese is chosen: left out.
    "{name} {filename!r} does not exist.": "{filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{filename!r} 是文件，这里要的是目录。",
    "{name} {filename!r} is a directory.": "{filename!r} 是目录，这里要的是文件。",
    "{name} {filename!r} is not readable.": "{filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{filename!r} 不可执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Value must be an iterable.": "值必须是一组。",
}


def current() -> Lang:
    return _lang


def set_lang(lang: Lang) -> None:
    global _lang
    _lang = lang


def gettext(message: str) -> str:
    return CLICK_ZH.get(message, message) if _lang == "zh" else message


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def install() -> None:
    """Give click's modules this gettext (they imported theirs by name)."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types):
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


# --- help texts ----------------------------------------------------------------

# Options that mean the same wherever they appear.
COMMON_OPTIONS_ZH: dict[str, str] = {
    "--json": "以机器可读的 JSON 输出，键名稳定。",
    "--lang": "输出语言：zh 中文，en 英文（默认取自系统语言环境）。",
    "--comment": "说明；需要理由的操作在此填写理由。",
    "--if-version": "任务已不是此版本时拒绝执行（防止覆盖他人的改动）。",
    "--campaign": "仅此批次。",
    "--unit": "仅此责任单位。",
    "--workflow": "仅此流程。",
    "--state": "仅此状态的任务；可重复。",
    "--format": "输出格式。",
    "--output": "写入此文件。",
    "--chart": "同时把图表画到此文件：.svg（原生绘制，无需字体）或 .png。",
    "--limit": "最多列出的条数。",
    "--loglevel": "日志级别。",
    "--yes": "确认执行，不再询问。",
}

VERB_ZH = {
    "start": "签收 — 责任单位开始整改（待签收 → 整改中）。",
    "submit": "提交验收 — 提交审核（须先报送进展）。",
    "approve": "审核通过 — 责任领导审核通过（待审核 → 已审核）。",
    "reject": "退回 — 说明理由后退回责任单位（待审核 → 整改中）。",
    "close": "销号 — 对已审核的任务销号。",
    "reopen": "回头看 — 问题反弹时重新打开已销号的任务（须说明理由）。",
    "cancel": "撤销 — 撤销未办结的任务（须说明理由）。",
    "suspend": "挂起 — 责任领导批准暂缓办理（须说明理由），时限停止计算。",
    "resume": "恢复办理 — 责任领导恢复挂起的任务，时限顺延挂起的工作日。",
}

# command path (after "duban") → (help text, {option: help text})
HELP_ZH: dict[str, tuple[str, dict[str, str]]] = {
    "": (
        "duban 督办 — 整改与帮扶任务：交办、办理、审核、销号。",
        {
            "--db": "数据库：SQLite 文件（默认 ./duban.db）或 postgresql+psycopg://…［环境变量 DUBAN_DATABASE_URL］",
            "--as": "以谁的身份操作（人员编号）。［环境变量 DUBAN_USER］",
            "--for": "以已批准代理人的身份代此不在岗人员操作（代理，人员编号）；见 duban substitute。",
            "--version": "显示版本并退出。",
        },
    ),
    **{verb: (text, {}) for verb, text in VERB_ZH.items()},
    "assign": (
        "交办 — 向责任单位交办新任务；输出任务编号。",
        {
            "--title": "整改事项，一句话。",
            "--unit": "责任单位（名称）。",
            "--leader": "责任领导（编号或姓名）。",
            "--deadline": "整改时限：2026-06-30、2026年6月底前、年底前、第三季度末、立行立改、长期坚持 …",
            "--category": "问题类别，如 民生问题。",
            "--campaign": "批次，如 2026年主题教育整改。",
            "--measure": "整改措施；可重复。",
            "--problem": "问题原文（巡视巡察反馈的表述）。",
            "--co-unit": "配合单位；可重复。",
            "--person": "责任人（编号或姓名）。",
            "--priority": "优先级：高、中、低。",
            "--workflow": "流程：rectification（整改）或 assistance（帮扶）。",
            "--field": "流程字段，如 households=3。",
            "--source": "问题来源（立项），须为流程所列来源之一，如 巡视巡察反馈。",
            "--source-ref": "来源文号或条目，如 县委巡察反馈意见 第3条。",
            "--source-date": "来源文件日期（YYYY-MM-DD）。",
            "--instruction": "由哪条领导批示立项，如 PS-2026-0001。",
        },
    ),
    "fire": ("执行任务流程中的任一操作（见 'duban workflow show'）。", {}),
    "progress": (
        "报送进展 — 报送任务进展，可附佐证材料。",
        {
            "--percent": "完成进度，0–100。",
            "--note": "整改进展：做了什么。",
            "--attach": "佐证材料文件；可重复。",
        },
    ),
    "list": (
        "任务列表，附红黄绿灯：每次一页，或用 --all 全部流式输出。",
        {
            "--mine": "仅本人所在单位、本人负责或担任责任领导的任务。",
            "--light": "仅此灯色（red 红、yellow 黄、green 绿）；可重复。",
            "--overdue": "仅逾期任务（红灯）。",
            "--source": "仅此问题来源的任务；'-' 表示未写来源的任务。",
            "--instruction": "仅由此领导批示立项的任务（如 PS-2026-0001）。",
            "--top": "仅顶层任务，不含分解的子任务。",
            "--limit": "最多显示几项（默认 50）。",
            "--after": "从此任务编号之后开始（下一页）。",
            "--all": "全部匹配的任务，逐行输出（JSON 为逐项写出的数组）。",
        },
    ),
    "show": ("任务详情、时间线、进展报送，以及您可执行的操作。", {}),
    "extend": (
        "延期申请 — 责任单位申请新的整改时限。",
        {"--to": "新的整改时限：日期，或如 年底前 的表述。", "--reason": "延期理由。"},
    ),
    "extension": ("延期申请：查看、同意、不同意（责任领导）。", {}),
    "extension approve": ("同意延期 — 整改时限随之调整，提醒重新安排。", {}),
    "extension deny": ("不同意延期 — 整改时限不变。", {}),
    "extension list": (
        "延期申请列表，最新的在后。",
        {
            "--status": "仅此状态：pending 待审批、approved 已同意、denied 不同意、withdrawn 已撤回。",
            "--task": "仅此任务的申请。",
        },
    ),
    "remind": ("催办 — 人工催办责任单位（督办人员或领导），经通知发件箱发出。", {"--note": "督办要求。"}),
    "sweep": (
        "把到期的提醒和督办写入通知发件箱（定时任务所做的事）。",
        {
            "--now": "按此时刻检查（默认：现在），如 2026-10-12T09:00；晚于现在须加 --yes。",
            "--deliver": "同时在本进程中投递待发送的通知。",
            "--dry-run": "试运行：列出将写入的通知，不写入任何内容。",
            "--yes": "--now 晚于现在时，确认照此执行。",
        },
    ),
    "notifications": ("通知发件箱。", {}),
    "notifications list": (
        "通知列表，最新的在前。",
        {"--status": "仅此状态：pending 待发送、sending 发送中、sent 已发送、failed 发送失败、folded 并入每日摘要。"},
    ),
    "notifications retry": ("重新发送失败的通知（重试次数清零）。", {"--failed": "所有发送失败的通知。"}),
    "digest": ("每日摘要（每个工作日早上一条，代替逐条通知）。", {}),
    "digest preview": (
        "显示某人（编号或姓名）将收到的每日摘要，按通知渠道分别显示；不写入、不发送。",
        {"--as-of": "某天（当天 DUBAN_DIGEST_AT 时刻的摘要）或某一时刻，如 2026-09-08 或 2026-09-08T08:00。"},
    ),
    "worker": (
        "运行投递通知的 Celery worker（DUBAN_BROKER_URL，或内置的 SQLite 消息队列）。",
        {"--concurrency": "并发进程数。"},
    ),
    "beat": ("运行唯一的定时器：每隔 DUBAN_SWEEP_SECONDS 秒（默认 300）检查到期并转发通知。", {}),
    "import": (
        "导入台账 — 把台账（XLSX 或 CSV）导入为任务，要么全部导入，要么一行不导。",
        {
            "--sheet": "要读取的工作表（默认：第一个）。",
            "--campaign": "任务的批次；其年份用于解析 6月底前 这类时限。",
            "--workflow": "流程：rectification（整改）或 assistance（帮扶）。",
            "--dry-run": "只检查并报告将导入什么，不写入。",
            "--create-units": "创建组织中没有的单位（不会创建领导）。",
            "--mapping": "YAML 或 CSV：少见的表头 → 字段（如 '反馈问题内容: 问题'）。",
            "--skip-invalid": "导入有效的行；其余行连同原因写入此 CSV。",
            "--assigned-on": "台账未给出交办日期的行所用的交办日期（YYYY-MM-DD）；立行立改从此日起算。",
        },
    ),
    "score": (
        "考核评分 — 按评分办法（DUBAN_SCORING）计算各单位得分、等次和排名。",
        {
            "--as-of": "按该日结束时的台账评分（默认：今天）。",
            "--period": "与上一周期末比较：week 周、month 月、quarter 季、year 年。",
            "--campaign": "只评该专项；有专项评分办法时用其办法。",
            "--unit": "只评该单位，并列出每一分的来历。",
        },
    ),
    "accountability": ("问责 — 对红色督办（最高督办层级）任务的问责记录。", {}),
    "accountability open": (
        "对处于红色督办层级的任务启动问责。",
        {
            "--kind": "问责方式：约谈、通报批评、责令检查或移交纪检（以问责办法为准）。",
            "--person": "相关人员；可重复。",
            "--decision": "处理决定。",
            "--on": "决定日期（默认：今天）。",
        },
    ),
    "accountability close": ("办结问责记录。", {"--note": "办结情况。"}),
    "accountability list": (
        "列出问责记录，按决定日期排序。",
        {
            "--unit": "只看该单位。",
            "--person": "只看涉及该人员的记录。",
            "--task": "只看该任务。",
            "--status": "只看办理中（open）或已办结（closed）。",
        },
    ),
    "notices": ("督办单 — 各督办层级下发的编号督办单（三色督办单）及单位反馈。", {}),
    "notices list": (
        "列出督办单，按编号排序。",
        {"--task": "只看该任务。", "--unit": "只看该单位。", "--year": "只看该年度。"},
    ),
    "notices show": (
        "查看一份督办单（督办〔2026〕第12号，或 2026-12）；-o FILE.docx 写出 Word 文件，-o FILE.pdf 写出 PDF 文件。",
        {"--output": "写出为 Word 文件（.docx）或 PDF 文件（.pdf），按文件名后缀。"},
    ),
    "notices reply": (
        "记录单位对督办单的反馈；超过反馈期限即为逾期反馈。",
        {"--note": "反馈内容：已做什么、下一步怎么做。"},
    ),
    "campaign": ("整改专项（批次）：反馈日期与来源，立行立改等时限由此起算。", {}),
    "campaign add": (
        "新增整改专项（领导或管理员）；记入审计链。",
        {
            "--feedback-date": "反馈日期（YYYY-MM-DD）。",
            "--source": "反馈来源，如 县委第二巡察组。",
            "--start": "整改开始日期（默认：反馈日期）。",
        },
    ),
    "campaign list": ("列出整改专项，按反馈日期排序。", {}),
    "verify": (
        "复核 — 责任单位以外的督查人员实地或书面复核已审核的任务，附佐证材料，确认或退回。",
        {
            "--confirm": "复核通过：任务可销号。",
            "--send-back": "复核不通过：退回责任单位。",
            "--comment": "复核了什么、结论如何（必填）。",
            "--on-site": "实地复核（默认：书面复核）。",
            "--attach": "佐证材料文件；可重复。",
        },
    ),
    "split": (
        "分解交办 — 将任务分解为下级单位的子任务（责任单位负责人分给本单位下级单位，领导可分给任何单位）；输出子任务编号。",
        {
            "--unit": "子任务交给哪个下级单位。",
            "--title": "子任务标题（默认：同上级任务）。",
            "--deadline": "子任务时限：日期或如 6月底前 的表述；不得晚于上级任务的时限（默认：同上级任务）。",
            "--person": "下级单位的责任人（编号或姓名）。",
            "--measure": "整改措施；可重复。",
            "--comment": "说明，记入上级任务。",
        },
    ),
    "close-out": (
        "核销子任务 — 领导说明理由核销未办结的子任务，上级任务方可提交验收。",
        {"--comment": "核销理由（必填）。"},
    ),
    "return": ("退办 — 非本单位职责的，说明理由退回责任领导（限一次）。", {"--comment": "退办理由（必填）。"}),
    "reassign": (
        "改派 — 责任领导将退办的任务交给另一单位，时限按流程规定重新起算。",
        {"--unit": "改派给哪个单位。", "--comment": "说明。"},
    ),
    "insist": ("坚持交办 — 责任领导将退办的任务仍交原单位办理。", {"--comment": "理由（必填）。"}),
    "transfer": ("转办 — 督查人员提请、责任领导同意后，任务转给另一单位。", {}),
    "co-unit": ("配合单位 — 配合单位签收并报送本单位承担的部分；责任领导可说明理由免于配合。", {}),
    "co-unit sign": (
        "配合单位签收 — 本单位签收所配合任务中本单位的部分。",
        {"--unit": "配合单位名称（默认：本人所在单位）。", "--comment": "说明。"},
    ),
    "co-unit report": (
        "报送配合情况 — 本单位向牵头单位报送所承担部分的完成情况。",
        {"--unit": "配合单位名称（默认：本人所在单位）。", "--comment": "本单位配合完成了什么（必填）。"},
    ),
    "co-unit waive": (
        "免于配合 — 责任领导说明理由，免除某配合单位的部分，牵头单位即可提交验收。",
        {"--unit": "免于配合的配合单位（必填）。", "--comment": "理由（必填）。"},
    ),
    "transfer propose": (
        "提请转办（督查人员），并告知责任领导。",
        {"--unit": "拟转给哪个单位。", "--comment": "理由（必填）。"},
    ),
    "transfer consent": ("同意转办（责任领导）：任务转给所提请的单位，由其重新签收。", {"--comment": "说明。"}),
    "transfer decline": ("不同意转办（责任领导）：任务仍由原单位办理。", {"--comment": "理由（必填）。"}),
    "substitute": (
        "代理 — 不在岗人员（休假、培训）指定代理人及起止日期，经本单位负责人或管理员批准；代理人用 --for 代其操作。",
        {},
    ),
    "substitute request": (
        "申请代理：指定代理人与起止日期；输出代理编号，并通知审批人。",
        {
            "--substitute": "代理人（编号或姓名）。",
            "--from": "不在岗的第一天（YYYY-MM-DD）。",
            "--to": "不在岗的最后一天（YYYY-MM-DD）；到期自动结束。",
            "--reason": "事由：休假、外出培训……",
            "--person": "为谁申请（默认：本人）。",
        },
    ),
    "substitute approve": ("批准代理申请（按规定：不在岗人员所在单位负责人或管理员）。", {}),
    "substitute deny": ("不批准代理申请。", {}),
    "substitute cancel": ("提前结束代理，或撤回申请；即时生效。", {}),
    "substitute list": (
        "按开始日期列出代理，并标明现在（或 --on 当日）是否生效。",
        {"--person": "仅此人员的代理（不在岗或代理他人）。", "--on": "截至该日结束时哪些代理生效（YYYY-MM-DD）。"},
    ),
    "instruction": ("领导批示 — 先登记批示，再据此交办任务（assign --instruction），任务回指批示。", {}),
    "instruction add": (
        "登记领导批示（领导、督查人员或管理员）；输出批示编号；记入审计链。",
        {
            "--leader": "作出批示的领导（编号或姓名）。",
            "--text": "批示内容。",
            "--ref": "批示文号或出处，如 县委办批件〔2026〕12号。",
            "--date": "批示日期（YYYY-MM-DD）。",
        },
    ),
    "instruction list": ("列出领导批示，按日期排序，并给出据此立项的任务数与已销号数。", {}),
    "instruction show": ("显示一条领导批示及据此立项的任务。", {}),
    "export": (
        "导出台账 — 导出为带格式的 XLSX 或 CSV，表头用所选语言。",
        {
            "--output": "FILE.xlsx 或 FILE.csv。",
            "--as-of": "导出截至该日结束时的台账（YYYY-MM-DD）。",
            "--source": "仅此问题来源的任务；'-' 表示未写来源的任务。",
        },
    ),
    "report": (
        "定期通报 — 分单位统计、点名逾期任务、与上期比较。",
        {
            "--period": "统计周期：week 周、month 月、quarter 季、year 年。",
            "--from": "统计起始日（与 --to 合用，代替 --period）。",
            "--to": "统计截止日（默认：统计基准日）。",
            "--as-of": "按该日结束时的台账统计（默认：今天）。",
            "--campaign": "仅此专项（批次）。",
            "--unit": "仅此单位。",
            "--category": "仅此问题类别。",
            "--source": "仅此问题来源的任务；'-' 表示未写来源的任务。",
            "--level": "统计层级：top 仅顶层任务（默认），all 连同分解的子任务。",
            "--issue-no": "期号（第N期，用于 DOCX、HTML）；不给则不编号。",
            "--cc": "抄送单位；可重复。",
            "--format": "输出格式（默认：表格，或按 -o 的扩展名）。",
            "--limit": "每个名单点名的任务数；0 为全部。",
            "--issuer": "发文单位，印在标题下（DOCX、HTML）。",
            "--lang": "通报的语言。",
        },
    ),
    "circulars": ("按计划（DUBAN_CIRCULARS）生成并保存的定期通报。", {}),
    "circulars issue": ("生成已到期的定期通报（定时器每次运行都会做）。", {}),
    "circulars list": ("已生成的定期通报，最新的在前。", {"--schedule": "仅此计划的通报。"}),
    "circulars show": (
        "查看一份已生成的通报：有保存的文件就原样给出，否则按保存的数据重新生成。",
        {"--format": "输出格式（默认：表格，或按 -o 的扩展名）。"},
    ),
    "audit": ("防篡改的历史：校验哈希链、锚定总账、查看操作日志（含被拒绝的操作）。", {}),
    "audit anchor": (
        "用 DUBAN_AUDIT_KEY 签名的总账头：留存（或印在通报中），以备日后校验。",
        {"--output": "把锚点写入此文件。", "--store": "同时保存在工作区中，供 'audit verify --since-anchor' 使用。"},
    ),
    "audit log": (
        "谁做了什么，最新的在前，含被拒绝的操作及原因。",
        {"--actor": "仅此人做过或尝试过的操作。", "--task": "仅此任务。", "--since": "自该日起。"},
    ),
    "audit verify": (
        "校验每条哈希链及其约束的记录、进展报送、人员和设置；有任何破坏则以 8 退出。",
        {
            "--campaign": "仅此批次的任务（总账链始终整体校验）。",
            "--anchor": "'duban audit anchor' 生成的锚点：还能发现被截短或整体改写的历史。",
            "--since-anchor": "对照工作区保存的最新锚点校验（定时器每隔 DUBAN_ANCHOR_SECONDS 秒生成一个）。",
        },
    ),
    "backup": ("在他人继续工作时制作数据库的一致副本（SQLite；PostgreSQL 请用 pg_dump）。", {}),
    "restore": (
        "用备份替换数据库，先核对它是完整的 duban 数据库。",
        {"--yes": "确认用备份替换现有数据库。"},
    ),
    "init": (
        "创建或升级数据库结构；可同时导入组织。",
        {
            "--org": "要导入的组织文件（YAML 或 CSV）。",
            "--single-desk": "单机模式：多人共用一台电脑，操作人按 --as 记录，不核对系统账号。更改须管理员。",
            "--allow-fixed-clock": "测试工作区：非单机模式也接受 DUBAN_NOW 和 sweep --now。须管理员。",
            "--service-account": "登记代登录人员操作的服务器账号（os:名称 或 pg:角色），即网页工作台。须管理员。",
        },
    ),
    "serve": (
        "运行网页工作台（页面及 /api/v1 下的 JSON 接口），基于 uvicorn。",
        {
            "--host": "监听地址（前面放 TLS 反向代理）。",
            "--port": "端口。",
            "--workers": "工作进程数。",
            "--threads": "每个工作进程同时处理的页面数（默认取 DUBAN_WEB_THREADS，否则为 2）。",
            "--db": "数据库，同全局 --db（在此也可用）。",
        },
    ),
    "account": ("网页账号：密码、接口令牌、登录记录。", {}),
    "account set-password": (
        "设置某人的网页密码（管理员；本人可设自己的）。终端上输入两次，否则从标准输入读一行。他人代设的密码须在首次登录时更改。",
        {},
    ),
    "account token": ("为某人生成新的接口令牌并只显示一次（管理员；本人可为自己生成）。仅保存其哈希。", {}),
    "account tokens": ("列出接口令牌：某人的（管理员；本人可查自己的），或所有人的（管理员）。从不显示令牌本身。", {}),
    "account revoke-token": ("撤销编号为 TOKEN_ID 的接口令牌（编号见 account tokens）：令牌本人或管理员；有记录。", {}),
    "account signins": ("最近的登录、退出、失败和被限制的尝试（链上的记录）。", {"--limit": "最多显示几条。"}),
    "org": ("组织：单位和人员。", {}),
    "org import": ("从 YAML 或 CSV 文件新增或更新单位和人员（管理员）。", {}),
    "org show": ("单位和人员。", {}),
    "workflow": ("流程定义（workflows/ 及 DUBAN_WORKFLOW_PATH 中的 YAML）。", {}),
    "workflow check": ("校验流程定义文件；指出第一个错误所在的文件和键。", {}),
    "workflow show": ("以表格列出流程定义的状态和操作。", {}),
    "workflow graph": ("把流程定义画成图：Mermaid 文本或 Graphviz DOT。", {"--format": "图的格式：mermaid 或 dot。"}),
    "config": ("配置（环境变量和 DUBAN_CONFIG 文件）。", {}),
    "config show": ("当前生效的每项 DUBAN_* 设置及其来源；密码、令牌和密钥显示为 ****。", {}),
    "demo": (
        "用 examples/ 建一个演示工作区，演示六周的工作。",
        {
            "--dir": "演示工作区所在文件夹（其数据库会重建）。",
            "--examples": "含 org.yaml 和 ledger.csv 的文件夹（默认：仓库的 examples/）。",
        },
    ),
}

_ORIGINAL = "_duban_en_help"


def _walk(command: click.Command, path: str = ""):  # type: ignore[no-untyped-def]
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, f"{path} {name}".strip())


def localize(root: click.Command, lang: Lang, root_path: str = "") -> None:
    """Put the chosen language's help texts on every command and option (English ones are kept to return to).

    ``root_path`` is ``root``'s own command path: commands are loaded when used, and localized then.
    """
    set_lang(lang)
    for path, command in _walk(root, root_path):
        if not hasattr(command, _ORIGINAL):
            setattr(
                command,
                _ORIGINAL,
                (command.help, command.short_help, {id(p): getattr(p, "help", None) for p in command.params}),
            )
        help_en, short_en, params_en = getattr(command, _ORIGINAL)
        if hasattr(command, "_help_option"):
            command._help_option = None  # click keeps its --help option, worded in the language of the first use
        doc_zh, options_zh = HELP_ZH.get(path, (None, {}))
        if lang == "zh" and doc_zh:
            command.help, command.short_help = doc_zh, None
        else:
            command.help, command.short_help = help_en, short_en
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            if id(param) not in params_en:
                params_en[id(param)] = param.help
            name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
            zh = options_zh.get(name) or COMMON_OPTIONS_ZH.get(name)
            param.help = zh if lang == "zh" and zh else params_en[id(param)]


CJK = re.compile(r"[\u4e00-\u9fff]")
