"""BMv2 storage allocation: header types, header instances, stacks, unions
and the `scalars` metadata header that holds every flattened scalar.

Why: BMv2 has no structs or local variables; the mid end flattens every P4
struct/local into fields of header instances, named the way p4c names them
closely enough for debugging (temporaries get `_N` suffixes).
"""
from __future__ import annotations

from .ptypes import (
    PType,
    TBits,
    TBool,
    TEnum,
    TError,
    TInt,
    TSerEnum,
    TStack,
    TStructLike,
    TTuple,
    TVarbit,
    bit_width,
)
from .values import FieldV, HeaderV, StackV, StructV, UnionV, Val


def flatten_fields(t: TStructLike, prefix: str = ""):
    """Header fields with nested structs flattened to `outer.inner` names."""
    for fname, ft in t.fields:
        if isinstance(ft, TStructLike):
            yield from flatten_fields(ft, f"{prefix}{fname}.")
        else:
            yield prefix + fname, ft


def _field_val(hname: str, fname: str, ft: PType):
    if isinstance(ft, TStructLike):
        sv = StructV(ft)
        for sub, st in ft.fields:
            sv.fields[sub] = _field_val(hname, f"{fname}.{sub}", st)
        return sv
    return FieldV(hname, fname, ft)


class Storage:
    def __init__(self):
        self.scalars: list[list] = []                 # [name, width, signed]
        self._names: set[str] = set()
        self._scalar_names: set[str] = set()
        self.header_types: list[dict] = []
        self._htype_of: dict[int, str] = {}
        self._htype_names: set[str] = {"scalars_0", "standard_metadata"}
        self.headers: list[dict] = []
        self.header_stacks: list[dict] = []
        self.header_union_types: list[dict] = []
        self._utype_of: dict[int, str] = {}
        self.header_unions: list[dict] = []
        self.header_union_stacks: list[dict] = []
        self.std_meta: HeaderV | None = None
        self._varbit_types: dict = {}

    # ------------------------------------------------------------- naming
    def unique(self, base: str, pool: set[str] | None = None) -> str:
        pool = self._names if pool is None else pool
        name, i = base, 0
        while name in pool:
            name = f"{base}_{i}"
            i += 1
        pool.add(name)
        return name

    # ------------------------------------------------------------- scalars
    def new_scalar(self, base: str, t: PType) -> FieldV:
        if isinstance(t, TInt):
            t = TBits(32)
        name = self.unique(base, self._scalar_names)
        width = bit_width(t)
        self.scalars.append([name, width, isinstance(t, TBits) and t.signed])
        return FieldV("scalars", name, t)

    # ------------------------------------------------------------- headers
    def header_type_name(self, t: TStructLike) -> str:
        key = id(t)
        if key in self._htype_of:
            return self._htype_of[key]
        name = self.unique(t.name, self._htype_names)
        fields = []
        max_len = None
        flat = list(flatten_fields(t))
        for fname, ft in flat:
            if isinstance(ft, TVarbit):
                fields.append([fname, "*"])
                max_len = (sum(bit_width(x) for _, x in flat)) // 8
            else:
                fields.append([fname, bit_width(ft), isinstance(ft, TBits) and ft.signed])
        total = sum(f[1] for f in fields if isinstance(f[1], int))
        if max_len is None and total % 8:
            # BMv2 header types are whole bytes: p4c pads the type (the pad bits are
            # extracted and emitted with the header, so a packet goes through unchanged)
            pad = "_padding"
            while any(f[0] == pad for f in fields):
                pad += "_"
            fields.append([pad, 8 - total % 8, False])
        ht = {"name": name, "id": 0, "fields": fields}
        if max_len is not None:
            ht["max_length"] = max_len
        self.header_types.append(ht)
        self._htype_of[key] = name
        return name

    def new_header(self, base: str, t: TStructLike, metadata: bool = False) -> HeaderV:
        name = self.unique(base)
        tname = self.header_type_name(t)
        self.headers.append({"name": name, "id": len(self.headers), "header_type": tname,
                             "metadata": metadata, "pi_omit": True})
        h = HeaderV(name, t)
        for fname, ft in t.fields:
            h.fields[fname] = _field_val(name, fname, ft)
        return h

    def new_union(self, base: str, t: TStructLike) -> UnionV:
        name = self.unique(base)
        key = id(t)
        if key not in self._utype_of:
            uname = self.unique(t.name, self._htype_names)
            self._utype_of[key] = uname
            self.header_union_types.append({"name": uname, "id": len(self.header_union_types),
                                            "headers": [[f, self.header_type_name(ft)] for f, ft in t.fields]})
        u = UnionV(name, t)
        ids = []
        for fname, ft in t.fields:
            h = self.new_header(f"{name}.{fname}", ft)
            u.members[fname] = h
            ids.append(self.headers[-1]["id"])
        self.header_unions.append({"name": name, "id": len(self.header_unions),
                                   "union_type": self._utype_of[key], "header_ids": ids})
        return u

    def new_stack(self, base: str, t: TStack) -> StackV:
        name = self.unique(base)
        el = t.element
        s = StackV(name, t, union=isinstance(el, TStructLike) and el.kind == "union")
        for i in range(t.size):
            if s.union:
                s.elems.append(self.new_union(f"{name}[{i}]", el))
            else:
                s.elems.append(self.new_header(f"{name}[{i}]", el))
        if s.union:
            self.header_union_stacks.append({
                "name": name, "id": len(self.header_union_stacks),
                "union_type": self._utype_of[id(el)],
                "size": t.size,
                "header_union_ids": [self.header_unions.index(next(u for u in self.header_unions
                                                                   if u["name"] == e.name)) for e in s.elems]})
        else:
            self.header_stacks.append({
                "name": name, "id": len(self.header_stacks),
                "header_type": self.header_type_name(el), "size": t.size,
                "header_ids": [next(h["id"] for h in self.headers if h["name"] == e.name) for e in s.elems]})
        return s

    # ------------------------------------------------------------- generic
    def alloc(self, base: str, t: PType, prefix: str = "") -> Val:
        """Storage for a value of type `t`; scalars go to `scalars` named
        `prefix + base`, headers to instances named `base`."""
        if isinstance(t, TStructLike):
            if t.kind == "header":
                return self.new_header(base, t)
            if t.kind == "union":
                return self.new_union(base, t)
            sv = StructV(t)
            for fname, ft in t.fields:
                sub = f"{base}.{fname}" if base else fname
                sv.fields[fname] = self.alloc(sub, ft, prefix)
            return sv
        if isinstance(t, TStack):
            return self.new_stack(base, t)
        if isinstance(t, TVarbit):
            vt = self._varbit_types.get(t.max_width)
            if vt is None:
                vt = TStructLike(f"$varbit{t.max_width}", [("field", t)], "header")
                self._varbit_types[t.max_width] = vt
            return self.new_header(base, vt).fields["field"]
        if isinstance(t, TTuple):
            sv = StructV(t)
            for i, it in enumerate(t.items):
                sv.fields[f"f{i}"] = self.alloc(f"{base}_f{i}", it, prefix)
            return sv
        return self.new_scalar(prefix + base, t)

    def json_sections(self) -> dict:
        sc = list(self.scalars)
        total = sum(w for _, w, _ in sc)
        if total % 8:
            sc.append([self.unique("_padding", self._scalar_names), 8 - total % 8, False])
        types = [{"name": "scalars_0", "id": 0, "fields": sc}]
        std = [t for t in self.header_types if t["name"] == "standard_metadata"]
        others = [t for t in self.header_types if t["name"] != "standard_metadata"]
        types += std + others
        for i, t in enumerate(types):
            t["id"] = i
        headers = [{"name": "scalars", "id": 0, "header_type": "scalars_0", "metadata": True,
                    "pi_omit": True}]
        for h in self.headers:
            headers.append(dict(h))
        idmap = {}
        for i, h in enumerate(headers):
            if i:
                idmap[h["id"]] = i
            h["id"] = i
        stacks = []
        for s in self.header_stacks:
            s = dict(s)
            s["header_ids"] = [idmap[x] for x in s["header_ids"]]
            stacks.append(s)
        unions = []
        for u in self.header_unions:
            u = dict(u)
            u["header_ids"] = [idmap[x] for x in u["header_ids"]]
            unions.append(u)
        return {"header_types": types, "headers": headers, "header_stacks": stacks,
                "header_union_types": self.header_union_types, "header_unions": unions,
                "header_union_stacks": self.header_union_stacks}


__all__ = ["Storage", "TBool", "TEnum", "TError", "TSerEnum"]
