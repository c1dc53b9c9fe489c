"""Why the operating system refused a file, in the reader's language.

``strerror`` is the C library's English ("Permission denied"); a Chinese reader
needs the same reason in Chinese, and the English stays as the system wrote it.
"""

from __future__ import annotations

import errno

from .text import Bilingual

_ZH = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许此操作",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EISDIR: "这是文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EROFS: "文件系统只读",
    errno.EEXIST: "已存在",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EIO: "读写出错",
    errno.EBUSY: "正被占用",
    errno.EMFILE: "打开的文件过多",
    errno.ELOOP: "符号链接层数过多",
}


def os_reason(exc: BaseException) -> Bilingual:
    """The system's reason for refusing: Chinese by errno where known, the system's own words otherwise."""
    en = str(getattr(exc, "strerror", None) or exc or type(exc).__name__)
    code = getattr(exc, "errno", None)
    return Bilingual(_ZH.get(code, f"“{en}”") if isinstance(code, int) else f"“{en}”", en)


def unreadable(exc: BaseException) -> Bilingual:
    """'cannot read it (…)' for a settings file: the English names the exception's kind, as it always has."""
    why = "不是 UTF-8 编码的文本" if isinstance(exc, UnicodeDecodeError) else os_reason(exc).zh
    return Bilingual(f"无法读取（{why}）", f"cannot read it ({exc.__class__.__name__})")


NO_SUCH_FILE = Bilingual("文件不存在；请检查路径", "no such file")
