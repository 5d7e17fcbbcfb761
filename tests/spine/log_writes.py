"""A static scan for code that could write a session log without going through `eventstore/`.

Rules, checked on one module's source (see `violations`):
- the text mentions the log suffix `.jsonl` at all;
- it names `O_APPEND`, or opens anything in append mode (the log-writing idiom);
- it opens for writing (open/io.open/Path.open with w/a/x/+, os.open with write flags) or modifies
  (write_text, write_bytes, touch, unlink, rename, replace, os.remove..., shutil.*) a path derived
  from the log root: any expression mentioning `session_log_path`, `sessions_log_dir`,
  `iter_session_logs`, `log_root` or `LOG_ROOT`, followed through assignments in the module.
Limits: taint is followed within one module, not through function arguments across modules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

LOG_ROOT_MARKERS = frozenset(
    {"session_log_path", "sessions_log_dir", "iter_session_logs", "log_root", "LOG_ROOT"}
)
WRITE_FLAGS = frozenset({"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"})
MODIFYING_METHODS = frozenset(
    {"write_text", "write_bytes", "touch", "unlink", "rename", "replace", "symlink_to", "hardlink_to"}
)
MODIFYING_OS = frozenset({"remove", "unlink", "rename", "replace", "truncate", "link", "symlink", "rmdir"})
_SUFFIX_RE = re.compile(r"\.jsonl", re.IGNORECASE)


def _names(node: ast.AST) -> set[str]:
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str):
            found.add(child.value)
    return found


def _targets(node: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """(target, value) pairs of the assignments a node makes."""
    if isinstance(node, ast.Assign):
        return [(target, node.value) for target in node.targets]
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value is not None:
        return [(node.target, node.value)]
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        return [(node.target, node.iter)]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [(node.optional_vars, node.context_expr)]
    return []


def tainted_names(tree: ast.AST) -> set[str]:
    """Names that (may) hold a path under the log root, to a fixpoint over the module's assignments."""
    pairs = [pair for node in ast.walk(tree) for pair in _targets(node)]
    tainted: set[str] = set()
    while True:
        markers = LOG_ROOT_MARKERS | tainted
        grown = {
            name.id
            for target, value in pairs
            if _names(value) & markers
            for name in ast.walk(target)
            if isinstance(name, ast.Name)
        }
        if grown <= tainted:
            return tainted
        tainted |= grown


def _mode(call: ast.Call, position: int) -> str | None:
    """The mode argument of an open-like call: its text, "?" when not a constant, None when absent."""
    node = call.args[position] if len(call.args) > position else None
    node = next((kw.value for kw in call.keywords if kw.arg == "mode"), node)
    if node is None:
        return None
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "?"


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _open_call(call: ast.Call, name: str) -> tuple[str | None, ast.AST | None]:
    """(mode, opened path) of open()/io.open()/<path>.open(); (None, None) for other calls."""
    if name in {"open", "io.open", "builtins.open"}:
        return _mode(call, 1), (call.args[0] if call.args else None)
    if name.endswith(".open") and name != "os.open" and isinstance(call.func, ast.Attribute):
        return _mode(call, 0), call.func.value
    return None, None


def _check_call(call: ast.Call, is_tainted: Callable[[ast.AST | None], bool]) -> str | None:
    name = _dotted(call.func)
    mode, target = _open_call(call, name)
    if mode is not None and "a" in mode:
        return f"{name}(...) in append mode {mode!r}"
    if mode is not None and (mode == "?" or set(mode) & set("wx+")) and is_tainted(target):
        return f"{name}(...) in mode {mode!r} on a path under the log root"
    if name == "os.open" and call.args and is_tainted(call.args[0]):
        flags = _names(call.args[1]) if len(call.args) > 1 else set()
        if flags & WRITE_FLAGS or (len(call.args) > 1 and not flags):
            return "os.open(...) with write flags on a path under the log root"
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    if method in MODIFYING_METHODS and is_tainted(getattr(call.func, "value", None)):
        return f".{method}() on a path under the log root"
    module, _, function = name.rpartition(".")
    modifies = module == "shutil" or (module == "os" and function in MODIFYING_OS)
    if modifies and any(is_tainted(arg) for arg in call.args):
        return f"{name}(...) on a path under the log root"
    return None


def violations(source: str) -> list[str]:
    """Every rule `source` breaks, as 'line N: reason' strings (empty when clean)."""
    found = [
        f"line {source.count(chr(10), 0, m.start()) + 1}: mentions the log suffix"
        for m in _SUFFIX_RE.finditer(source)
    ]
    tree = ast.parse(source)
    tainted = tainted_names(tree)

    def is_tainted(node: ast.AST | None) -> bool:
        return node is not None and bool(_names(node) & (LOG_ROOT_MARKERS | tainted))

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Name | ast.Attribute)
            and (getattr(node, "id", None) or node.attr) == "O_APPEND"
        ):
            found.append(f"line {node.lineno}: uses O_APPEND")
        elif isinstance(node, ast.Call) and (reason := _check_call(node, is_tainted)):
            found.append(f"line {node.lineno}: {reason}")
    return found
