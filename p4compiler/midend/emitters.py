"""Where lowered statements go: an action body, a control pipeline graph or
a parser state.

Why three emitters behind one interface: the statement lowerer is shared by
actions, functions, control `apply` bodies and parser states; only the way
control flow is represented differs (BMv2 `_jump`s inside actions,
conditionals + keyless action tables in pipelines, split states in parsers).
"""
from __future__ import annotations

from ..diagnostics import CompilerError
from .values import hexstr, op


class Emitter:
    kind = "?"

    def prim(self, p: dict) -> None:
        raise NotImplementedError

    # control flow: implemented per emitter
    def begin_if(self, cond_json: dict, loc=None):
        raise NotImplementedError

    def begin_else(self, token):
        raise NotImplementedError

    def end_if(self, token):
        raise NotImplementedError

    def push_return(self):
        raise NotImplementedError

    def do_return(self, loc=None):
        raise NotImplementedError

    def pop_return(self, token):
        raise NotImplementedError

    def do_exit(self, loc=None):
        raise NotImplementedError

    @property
    def reachable(self) -> bool:
        return True


class ActionEmitter(Emitter):
    """Primitives of one BMv2 action; `if` becomes `_jump_if_zero`/`_jump`."""

    kind = "action"

    def __init__(self):
        self.prims: list[dict] = []
        self._returns: list[list[int]] = []
        self._exits: list[int] = []
        self._exit_stack: list = []          # per inlined call: its copy-out (or None)

    def prim(self, p: dict) -> None:
        self.prims.append(p)

    def _jump(self, cond=None) -> int:
        if cond is None:
            self.prims.append({"op": "_jump", "parameters": [hexstr(0)]})
        else:
            self.prims.append({"op": "_jump_if_zero", "parameters": [cond, hexstr(0)]})
        return len(self.prims) - 1

    def _patch(self, idx: int, target: int | None = None) -> None:
        target = len(self.prims) if target is None else target
        self.prims[idx]["parameters"][-1] = hexstr(target)

    def begin_if(self, cond_json, loc=None):
        data = op("b2d", None, cond_json)
        return [self._jump(data), None]

    def begin_else(self, token):
        j = self._jump()
        self._patch(token[0])
        token[1] = j

    def end_if(self, token):
        if token[1] is None:
            self._patch(token[0])
        else:
            self._patch(token[1])

    def push_return(self):
        self._returns.append([])

    def do_return(self, loc=None):
        if not self._returns:
            raise CompilerError(loc, "return outside of a function or action")
        self._returns[-1].append(self._jump())

    def pop_return(self, token):
        for idx in self._returns.pop():
            self._patch(idx)

    def do_exit(self, loc=None):
        """`exit` in an action: the copy-outs of every call being inlined run
        first (innermost call first), then BMv2's `exit` and a jump to the end.
        Why before: p4c puts them there (RemoveActionParameters), and a switch
        may stop executing an action's primitives at `exit`."""
        hooks = [h for h in self._exit_stack if callable(h)]
        saved, self._exit_stack = self._exit_stack, []      # copy-out code cannot exit
        try:
            for h in reversed(hooks):
                h()
        finally:
            self._exit_stack = saved
        self.prims.append({"op": "exit", "parameters": []})
        self._exits.append(self._jump())

    def push_exit(self, on_exit=None):
        self._exit_stack.append(on_exit)

    def pop_exit(self):
        self._exit_stack.pop()
        return []           # exits already jumped to the end of the action

    def begin_exit_path(self, exits):
        over = self._jump()
        for i in exits:
            self._patch(i)
        return over

    def end_exit_path(self, over):
        (self._exit_stack[-1] if self._exit_stack else self._exits).append(self._jump())
        self._patch(over)

    def finish(self) -> list[dict]:
        for idx in self._exits:
            self._patch(idx)
        self._exits = []
        return self.prims

    def begin_loop(self):
        return len(self.prims)


class GraphEmitter(Emitter):
    """A control's pipeline: tables and conditionals linked by next pointers.
    Straight-line primitives go into keyless action tables (p4c's `tbl_*`)."""

    kind = "graph"

    def __init__(self, builder, entry_setter):
        self.b = builder
        self.dangling = [entry_setter]
        self.open: dict | None = None
        self._returns: list[list] = []
        self._exit_stack: list[list] = []

    @property
    def reachable(self) -> bool:
        return bool(self.dangling)

    def connect(self, name: str) -> None:
        for d in self.dangling:
            d(name)
        self.dangling = []
        self.open = None

    def prim(self, p: dict) -> None:
        if self.open is None:
            if not self.dangling:
                return
            act, tbl = self.b.new_action_table(p.get("source_info"))
            self.connect(tbl["name"])
            self.dangling = [table_next_setter(tbl)]
            self.open = act
        self.open["primitives"].append(p)

    def add_table(self, tbl: dict, exits: dict[str, list]) -> None:
        """Link a table node; `exits` maps a branch label (an action name,
        "__HIT__"/"__MISS__", or "" for everything) to setters appended by the caller."""
        self.connect(tbl["name"])

    def begin_if(self, cond_json, loc=None):
        node = self.b.new_conditional(cond_json, loc)
        self.connect(node["name"])
        self.dangling = [lambda n, c=node: c.__setitem__("true_next", n)]
        return [node, None]

    def begin_else(self, token):
        node = token[0]
        token[1] = self.dangling
        self.dangling = [lambda n, c=node: c.__setitem__("false_next", n)]
        self.open = None

    def end_if(self, token):
        node = token[0]
        if token[1] is None:       # no else branch
            self.dangling = self.dangling + [lambda n, c=node: c.__setitem__("false_next", n)]
        else:
            self.dangling = token[1] + self.dangling
        self.open = None

    def push_return(self):
        self._returns.append([])

    def do_return(self, loc=None):
        if not self._returns:
            raise CompilerError(loc, "return outside of a control or function")
        self._returns[-1].extend(self.dangling)
        self.dangling = []
        self.open = None

    def pop_return(self, token):
        self.dangling = self.dangling + self._returns.pop()
        self.open = None

    def do_exit(self, loc=None):
        if self._exit_stack:
            self._exit_stack[-1].extend(self.dangling)
        self.dangling = []
        self.open = None

    def push_exit(self, on_exit=None):
        self._exit_stack.append([])

    def pop_exit(self):
        return self._exit_stack.pop()

    def begin_exit_path(self, exits):
        saved = self.dangling
        self.dangling = list(exits)
        self.open = None
        return saved

    def end_exit_path(self, saved):
        if self._exit_stack:
            self._exit_stack[-1].extend(self.dangling)
        self.dangling = saved
        self.open = None


def _bit1():
    from .ptypes import TBits
    return TBits(1)


def table_next_setter(tbl: dict):
    def setter(n):
        tbl["base_default_next"] = n
        for k in tbl["next_tables"]:
            tbl["next_tables"][k] = n
    return setter


class ParserEmitter(Emitter):
    """Parser operations of the current parse state."""

    kind = "parser"

    def __init__(self, builder, state: dict):
        self.b = builder
        self.state = state
        self._returns: list[list[dict]] = []

    def prim(self, p: dict) -> None:
        o = p["op"]
        ops = self.state["parser_ops"]
        if o == "assign":
            ops.append({"op": "set", "parameters": p["parameters"]})
        elif o in ("extract", "extract_VL", "verify", "advance", "set", "primitive"):
            ops.append({"op": o, "parameters": p["parameters"]})
        else:
            q = {"op": o, "parameters": p["parameters"]}
            ops.append({"op": "primitive", "parameters": [q]})

    def begin_if(self, cond_json, loc=None):
        """Split the state: select on the condition into then/else states."""
        tmp = self.b.st.new_scalar("tmp_cond", _bit1())
        self.prim({"op": "assign", "parameters": [tmp.json(), op("b2d", None, cond_json)]})
        then_st = self.b.new_state(self.state["name"] + "_then")
        else_st = self.b.new_state(self.state["name"] + "_else")
        self.state["transition_key"] = [tmp.json()]
        self.state["transitions"] = [
            {"type": "hexstr", "value": "0x01", "mask": None, "next_state": then_st["name"]},
            {"type": "default", "value": None, "mask": None, "next_state": else_st["name"]}]
        self.state = then_st
        return {"else": else_st, "then_end": None}

    def begin_else(self, token):
        token["then_end"] = self.state
        self.state = token["else"]

    def end_if(self, token):
        if token["then_end"] is None:
            token["then_end"] = self.state
            self.state = token["else"]
        join = self.b.new_state(token["else"]["name"].rsplit("_else", 1)[0] + "_join")
        for st in (token["then_end"], self.state):
            st["transitions"] = [{"type": "default", "value": None, "mask": None, "next_state": join["name"]}]
        self.state = join

    def do_exit(self, loc=None):
        raise CompilerError(loc, "exit is not allowed in a parser")

    def push_exit(self, on_exit=None):
        pass

    def pop_exit(self):
        return []

    def push_return(self):
        self._returns.append([])

    def pop_return(self, token):
        ended = self._returns.pop()
        if not ended:
            return
        join = self.b.new_state(self.state["name"] + "_ret")
        for st in ended + [self.state]:
            st["transitions"] = [{"type": "default", "value": None, "mask": None, "next_state": join["name"]}]
        self.state = join

    def do_return(self, loc=None):
        """`return` inside a function inlined into a parser state: the current
        state jumps to the function's continuation; code after it is dead."""
        if not self._returns:
            raise CompilerError(loc, "return outside of a function")
        self._returns[-1].append(self.state)
        self.state = self.b.new_state(self.state["name"] + "_dead")
