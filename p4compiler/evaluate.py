"""Compile-time instantiation: which parser/control declaration and which
constructor arguments each argument of the `main` package denotes.

Why a separate step: P4Info and the back end both need the instance tree;
this module answers it from the AST (see docs/p4pc-internals.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import ast as A
from .diagnostics import CompilerError


@dataclass
class Instance:
    name: str
    decl: A.Declaration
    args: dict = field(default_factory=dict)
    children: list = field(default_factory=list)


@dataclass
class InstanceTree:
    main: Instance


def _decl_by_name(program: A.Program) -> dict:
    out = {}
    for d in program.declarations:
        n = getattr(d, "name", None)
        if n is not None and n not in out:
            out[n] = d
    return out


def _type_name(t) -> str:
    if isinstance(t, A.TypeName):
        return t.path.name
    if isinstance(t, A.SpecializedType):
        return t.base.path.name
    return ""


def _instance_of(expr, decls: dict) -> Instance:
    if isinstance(expr, A.ConstructorCallExpression):
        d = decls.get(_type_name(expr.type))
        if d is None:
            raise CompilerError(expr.loc, f"{_type_name(expr.type)}: unknown type")
        return _instantiate(d.name, d, expr.args, decls)
    if isinstance(expr, A.PathExpression):
        inst = decls.get(expr.path.name)
        if isinstance(inst, A.Instantiation):
            d = decls.get(_type_name(inst.type))
            return _instantiate(d.name, d, inst.args, decls)
    raise CompilerError(expr.loc, "unsupported package argument")


def _instantiate(name: str, d, args, decls) -> Instance:
    inst = Instance(name, d)
    params = getattr(d, "ctor_params", None) or getattr(d, "params", [])
    for p, a in zip(params, args):
        inst.args[p.name] = a.expr
    for loc in getattr(d, "locals", []) or []:
        if isinstance(loc, A.Instantiation):
            cd = decls.get(_type_name(loc.type))
            if isinstance(cd, (A.ControlDeclaration, A.ParserDeclaration)):
                inst.children.append(_instantiate(loc.name, cd, loc.args, decls))
            else:
                inst.children.append(Instance(loc.name, cd or loc, {}, []))
    return inst


def evaluate(program: A.Program) -> InstanceTree:
    decls = _decl_by_name(program)
    main = decls.get("main")
    if not isinstance(main, A.Instantiation):
        raise CompilerError(None, "program has no 'main' package instance")
    pkg = decls.get(_type_name(main.type))
    root = Instance("main", pkg or main)
    params = getattr(pkg, "params", []) if pkg is not None else []
    for i, a in enumerate(main.args):
        pname = params[i].name if i < len(params) else (a.name or str(i))
        child = _instance_of(a.expr, decls)
        root.args[pname] = child
        root.children.append(child)
    return InstanceTree(root)
