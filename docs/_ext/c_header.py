"""The C library's reference page, generated from csrc/include/nnc.h at
documentation build time (the header is the one description of the C API;
this only re-renders it in Sphinx's C domain).

The header's layout is what is parsed: sections open with a
``/* ---- name */`` rule; a comment documents the declarations that follow
it up to the next blank line or comment; declarations are ``#define``
macros, ``typedef enum {...} name;``, ``typedef struct {...} name;``, the
opaque ``typedef struct nnc_model nnc_model;`` and function prototypes
ending with ``;``.
"""

from __future__ import annotations

import re
from pathlib import Path

SECTION = re.compile(r"^/\* -+ (.+?) \*/$")
RST_SPECIAL = re.compile(r"([\\*`_|])")


def rst_text(text: str) -> str:
    """A comment as one rst paragraph, markup characters escaped."""
    return RST_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def read_comment(lines: list[str], i: int) -> tuple[str, int]:
    """The comment starting at lines[i] without its markers, and the index
    after it."""
    parts = []
    while True:
        line = lines[i].strip()
        done = "*/" in line
        line = line.split("*/")[0]
        line = re.sub(r"^/\*+", "", line)
        line = re.sub(r"^\*(?!/)", "", line)
        parts.append(line.strip())
        i += 1
        if done:
            return " ".join(p for p in parts if p), i


def split_member(line: str) -> tuple[str, str]:
    """'double x, y;  /* note */' -> ('double x, y', 'note')."""
    code, _, comment = line.partition("/*")
    return code.strip().rstrip(";").strip(), comment.replace("*/", "").strip()


def braced(lines: list[str], i: int) -> tuple[list[str], str, int]:
    """The member lines of a `typedef enum/struct {` at lines[i] (a member's
    comment continued over several lines joined into one), its type name and
    the index after the closing line."""
    first = lines[i]
    if "}" in first:  # typedef enum { A = 0, B = 1 } name;
        body = first[first.index("{") + 1:first.index("}")]
        name = first[first.index("}") + 1:].strip().rstrip(";").strip()
        return [m.strip() for m in body.split(",") if m.strip()], name, i + 1
    members: list[str] = []
    i += 1
    while not lines[i].strip().startswith("}"):
        line = lines[i].strip()
        if members and members[-1].count("/*") > members[-1].count("*/"):
            members[-1] += " " + line  # a member's comment goes on
        elif line.startswith("/*"):
            members.append(line)  # a comment between members (a heading)
        elif line:
            members.append(line)
        i += 1
    name = lines[i].strip()[1:].strip().rstrip(";").strip()
    return members, name, i + 1


def directive(kind: str, signature: str, doc: str, body: list[str] | None = None) -> list[str]:
    out = [f".. c:{kind}:: {signature}", ""]
    if doc:
        out += [f"   {rst_text(doc)}", ""]
    for line in body or []:
        out.append(f"   {line}" if line else "")
    return out


def enum_body(members: list[str]) -> list[str]:
    out = []
    for member in members:
        code, comment = split_member(member)
        name = code.split("=")[0].strip().rstrip(",").strip()
        if not name:
            continue
        out += directive("enumerator", name, comment)
    return out


def struct_body(members: list[str]) -> list[str]:
    out, note = [], ""
    for member in members:
        code, comment = split_member(member)
        if not code:  # a comment line between members: the group's name
            note = comment
            continue
        # "double beta1, beta2": one member each, of the first one's type.
        first, *rest = code.split(",")
        base, first_name = first.rsplit(" ", 1)
        names = [first_name, *rest]
        for name in (n.strip() for n in names):
            text = "; ".join(t for t in (comment, f"({note})" if note else "") if t)
            out += directive("member", f"{base} {name}", text)
    return out


def render(header: Path) -> str:
    lines = header.read_text().splitlines()
    out = ["..", "   Generated from csrc/include/nnc.h by docs/_ext/c_header.py at build time.", "",
           "C API reference", "===============", "",
           "Every declaration of ``csrc/include/nnc.h``, in the header's order, with the",
           "header's own comment. The conventions shared by every function (statuses,",
           "ownership, threads) are on :doc:`/c-library`.", ""]
    i = 0
    # Skip the file's leading comment and the include guard preamble.
    while not lines[i].startswith("#define NNC_VERSION"):
        i += 1
    doc, after_declaration = "", False
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        section = SECTION.match(stripped)
        if section:
            title = section[1].capitalize()
            out += [title, "-" * len(title), ""]
            doc, i = "", i + 1
        elif stripped.startswith("/*"):
            text, i = read_comment(lines, i)
            # A comment after declarations starts the next group's text.
            doc = text if after_declaration else f"{doc} {text}".strip()
            after_declaration = False
            continue
        elif not stripped:
            doc, i = "", i + 1
        elif (stripped.startswith(("#", "}", 'extern "C"'))
              and not stripped.startswith("#define NNC_")):
            i += 1
            continue
        elif stripped.startswith("#define NNC_"):
            name = stripped.split()[1]
            value = stripped.split(None, 2)[2]
            out += directive("macro", name, doc, [f"Value: ``{value}``", ""])
            i += 1
        elif stripped.startswith("typedef enum"):
            members, name, i = braced(lines, i)
            out += directive("enum", name, doc, enum_body(members))
        elif stripped.startswith("typedef struct {"):
            members, name, i = braced(lines, i)
            out += directive("struct", name, doc, struct_body(members))
        elif stripped.startswith("typedef struct"):
            code, comment = split_member(stripped)
            name = code.split()[-1]
            out += directive("struct", name, f"{doc} {comment}".strip())
            i += 1
        else:
            declaration = []
            while True:
                declaration.append(lines[i].split("/*")[0].strip())
                i += 1
                if declaration[-1].endswith(";"):
                    break
            out += directive("function", " ".join(declaration).rstrip(";"), doc)
        after_declaration = True
    return "\n".join(out) + "\n"


def write(header: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render(header)
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
