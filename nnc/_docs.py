"""Docstring sections shared by several functions, written once.

``@with_sections(name=text)`` replaces each ``{{name}}`` line of the
decorated object's docstring with ``text`` (indented like the line), so a
parameter documented for several functions has one source.
"""

from __future__ import annotations

import re


def with_sections(**sections: str):
    """A decorator filling the ``{{name}}`` placeholders of a docstring."""
    def fill(obj):
        doc = obj.__doc__ or ""

        def section(match: re.Match) -> str:
            indent, name = match[1], match[2]
            text = sections[name].strip("\n")
            return "\n".join(indent + line if line else "" for line in text.splitlines())

        obj.__doc__ = re.sub(r"^([ \t]*)\{\{(\w+)\}\}$", section, doc, flags=re.M)
        return obj
    return fill
