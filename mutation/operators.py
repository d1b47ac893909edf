"""The mutation operators: each mutant is one small change to one function body.

A mutant is found by walking the module's syntax tree; it is described by the function
it is in (qualified name) and the source text before and after, so the list of
equivalent mutants (mutation/equivalent.txt) survives edits elsewhere in the file.

Operators:
- comparisons: negated (== to !=, in to not in, is to is not) and moved over the
  boundary (< to <=, >= to >, ...);
- boolean operators: and to or, or to and; ``not x`` to ``x``; a bare condition
  ``if x`` to ``if not x``;
- arithmetic: + to -, - to +, unary minus removed;
- constants: 0 to 1, 1 to 0, n to n + 1, True to False, False to True, a string to "XX"
  (an identifier-like string such as a code, key, field or kind: wording for people,
  a string with a space, is not mutated, nor docstrings nor f-strings);
- return values: ``return x`` to ``return None``;
- statements deleted (replaced by ``pass``): calls, raises, augmented assignments and
  assignments to an attribute or item;
- keyword arguments removed from a call, one at a time.
"""

from __future__ import annotations
import __future__

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

ANNOTATIONS_FLAG = __future__.annotations.compiler_flag  # the modules use postponed annotations

NEGATE = {
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Lt: [ast.LtE, ast.GtE],
    ast.LtE: [ast.Lt, ast.Gt],
    ast.Gt: [ast.GtE, ast.LtE],
    ast.GtE: [ast.Gt, ast.Lt],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
}


@dataclass
class Mutant:
    module: str  # path relative to the project root
    function: str  # qualified name, e.g. "Report.fail"
    line: int
    end_line: int
    before: str
    after: str
    occurrence: int = 1  # the n-th identical (before, after) change in this function
    source: str = ""  # the whole mutated module, as unparsed source
    mutant_id: str = ""

    @property
    def key(self) -> str:
        occ = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.module} | {self.function} | {self.before}  ->  {self.after}{occ}"


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= 140 else text[:137] + "..."


def _is_docstring(stmt: ast.stmt, body: list[ast.stmt]) -> bool:
    return (
        body
        and stmt is body[0]
        and isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _functions(tree: ast.Module, wanted: re.Pattern) -> Iterator[tuple[str, ast.FunctionDef]]:
    """Top-level functions and methods of top-level classes whose qualified name matches."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and wanted.fullmatch(node.name):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                qual = f"{node.name}.{sub.name}" if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) else ""
                if qual and wanted.fullmatch(qual):
                    yield qual, sub


class _Candidates(ast.NodeVisitor):
    """Collects (node path, kind, argument) for every change the operators can make."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.AST, str, object]] = []
        self._in_fstring = 0

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._in_fstring += 1
        self.generic_visit(node)
        self._in_fstring -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        # Nested functions: their bodies only (defaults and decorators are not mutated).
        self._body(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _body(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if _is_docstring(stmt, body):
                continue
            self._statement(stmt)
            self.visit(stmt)

    def _statement(self, stmt: ast.stmt) -> None:
        deletable = (
            isinstance(stmt, ast.Raise | ast.AugAssign)
            or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call | ast.Await))
            or (
                isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Attribute | ast.Subscript) for t in stmt.targets)
            )
        )
        if deletable:
            self.found.append((stmt, "delete", None))

    def generic_visit(self, node: ast.AST) -> None:
        for _name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self._body(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            for new in NEGATE.get(type(op), []):
                self.found.append((node, "compare", (i, new)))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.found.append((node, "boolop", None))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not | ast.USub):
            self.found.append((node, "unary", None))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Add | ast.Sub):
            self.found.append((node, "binop", None))
        self.generic_visit(node)

    def _condition(self, test: ast.expr) -> None:
        if not isinstance(test, ast.Compare | ast.BoolOp | ast.UnaryOp | ast.Constant):
            self.found.append((test, "negate", None))

    def visit_If(self, node: ast.If) -> None:
        self._condition(node.test)
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._condition(node.test)
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self._condition(node.test)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if self._in_fstring:
            return
        value = node.value
        identifier_like = isinstance(value, str) and " " not in value and value != "XX"
        if isinstance(value, int) or identifier_like:  # bool is an int
            self.found.append((node, "constant", None))

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self.found.append((node, "return", None))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        for i, kw in enumerate(node.keywords):
            if kw.arg is not None:
                self.found.append((node, "keyword", i))
        self.generic_visit(node)


def _new_constant(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return {0: 1, 1: 0}.get(value, value + 1)
    return "XX"


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    parents: dict[int, tuple[ast.AST, str, int | None]] = {}
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        parents[id(child)] = (parent, name, i)
            elif isinstance(value, ast.AST):
                parents[id(value)] = (parent, name, None)
    return parents


def _put(where: tuple[ast.AST, str, int | None], node: ast.AST) -> None:
    parent, name, index = where
    if index is None:
        setattr(parent, name, node)
    else:
        getattr(parent, name)[index] = node


def _apply(node: ast.AST, kind: str, arg, where) -> tuple[str, str, object]:
    """Change the tree at ``node``; return (before, after, undo)."""
    before = _short(node)
    if kind in ("delete", "unary", "negate", "constant"):
        if kind == "delete":
            new: ast.AST = ast.Pass()
        elif kind == "unary":
            new = node.operand
        elif kind == "negate":
            new = ast.UnaryOp(op=ast.Not(), operand=node)
        else:
            new = ast.Constant(value=_new_constant(node.value))
        ast.copy_location(new, node)
        _put(where, new)
        after = "pass" if kind == "delete" else _short(new)
        return before, after, lambda: _put(where, node)
    if kind == "compare":
        i, op = arg
        old = node.ops[i]
        node.ops[i] = op()
        return before, _short(node), lambda: node.ops.__setitem__(i, old)
    if kind in ("boolop", "binop"):
        old = node.op
        flips = {ast.And: ast.Or, ast.Or: ast.And, ast.Add: ast.Sub, ast.Sub: ast.Add}
        node.op = flips[type(old)]()
        return before, _short(node), lambda: setattr(node, "op", old)
    if kind == "return":
        old = node.value
        node.value = ast.Constant(value=None)
        return before, _short(node), lambda: setattr(node, "value", old)
    if kind == "keyword":
        kw = node.keywords.pop(arg)
        return before, _short(node), lambda: node.keywords.insert(arg, kw)
    raise ValueError(kind)  # pragma: no cover - a typo in the table above


def mutants(path: str, source: str, functions: str) -> Iterator[Mutant]:
    """Every mutant of the functions of ``source`` whose qualified name matches ``functions``
    (a regular expression), with the whole mutated module as source."""
    tree = ast.parse(source, filename=path)
    parents = _parents(tree)
    wanted = re.compile(functions)
    lines = source.splitlines(keepends=True)
    for qualname, func in _functions(tree, wanted):
        collector = _Candidates()
        collector.visit_FunctionDef(func)
        seen: dict[tuple[str, str], int] = {}
        first = min([func.lineno] + [d.lineno for d in func.decorator_list])
        indent = " " * func.col_offset
        for node, kind, arg in collector.found:
            line = getattr(node, "lineno", func.lineno)
            end_line = getattr(node, "end_lineno", None) or line
            before, after, undo = _apply(node, kind, arg, parents.get(id(node)))
            try:
                if before == after:
                    continue
                ast.fix_missing_locations(func)
                text = ast.unparse(func)
                try:
                    compile(text, path, "exec", flags=ANNOTATIONS_FLAG, dont_inherit=True)
                except SyntaxError:
                    continue
            finally:
                undo()
            # The module with only this function replaced: other lines keep their numbers.
            body = "".join(indent + t + "\n" if t else "\n" for t in text.splitlines())
            mutated = "".join(lines[: first - 1]) + body + "".join(lines[func.end_lineno :])
            seen[(before, after)] = seen.get((before, after), 0) + 1
            yield Mutant(
                module=path,
                function=qualname,
                line=line,
                end_line=end_line,
                before=before,
                after=after,
                occurrence=seen[(before, after)],
                source=mutated,
            )
