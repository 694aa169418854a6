"""Read and write Salesforce metadata XML: line numbers on input, Salesforce's layout on output.

Input goes through :mod:`xml.etree.ElementTree`'s ``TreeBuilder`` fed by the standard
library's expat parser, so every element keeps the line it starts on (problems name the
file, the line and the element). Namespaces are dropped from tag names; document type
declarations and entities are refused (no entity expansion attacks).

Output is written by hand, exactly as Salesforce retrieves metadata: a double-quoted XML
declaration, the metadata namespace on the root, four-space indentation and children in
the order given.

>>> doc = parse_xml(b'<?xml version="1.0"?>\\n<A xmlns="' + NS.encode() + b'">\\n<b>1</b></A>', "x")
>>> doc.root.tag, doc.text(doc.root, "b"), doc.line(doc.root.find("b"))
('A', '1', 3)
>>> print(render("Territory2Type", [("name", "City"), ("priority", "10")]), end="")
<?xml version="1.0" encoding="UTF-8"?>
<Territory2Type xmlns="http://soap.sforce.com/2006/04/metadata">
    <name>City</name>
    <priority>10</priority>
</Territory2Type>
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.parsers import expat
from xml.sax.saxutils import escape

from territorial.errors import Problem

NS = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"

Child = tuple[str, "str | Sequence[Child]"]
"""An element to write: its tag and either its text or its children."""


class XmlSyntaxError(Exception):
    """The bytes are not well-formed XML (or use a DTD); carries the line."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class XmlDoc:
    """A parsed metadata file: its root element and the line each element starts on."""

    file: str
    root: ET.Element
    lines: dict[ET.Element, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, element: ET.Element | None) -> int | None:
        return None if element is None else self.lines.get(element)

    def text(self, parent: ET.Element, tag: str) -> str | None:
        """The stripped text of ``parent``'s first ``tag`` child; None when absent."""
        child = parent.find(tag)
        if child is None:
            return None
        return (child.text or "").strip()

    def problem(
        self, message: str, element: ET.Element | None, tag: str | None, hint: str | None = None
    ) -> None:
        self.problems.append(
            Problem(message, row=self.line(element), column=tag, hint=hint, file=self.file)
        )

    def required(self, parent: ET.Element, tag: str, hint: str | None = None) -> str:
        """The text of a required child; a problem (and "") when it is missing or empty."""
        value = self.text(parent, tag)
        if not value:
            self.problem(
                f"<{tag}> is required in <{parent.tag}>",
                parent.find(tag) if value == "" else parent,
                tag,
                hint or f"Add <{tag}>...</{tag}>.",
            )
            return ""
        return value

    def boolean(self, parent: ET.Element, tag: str, *, default: bool | None = None) -> bool:
        """A ``true``/``false`` child; a problem when missing (without default) or other."""
        value = self.text(parent, tag)
        if value is None and default is not None:
            return default
        if value is not None and value.lower() in ("true", "false"):
            return value.lower() == "true"
        element = parent.find(tag)
        self.problem(
            f"<{tag}> must be true or false, not {value!r}"
            if value is not None
            else f"<{tag}> is required in <{parent.tag}>",
            element if element is not None else parent,
            tag,
            f"Write <{tag}>true</{tag}> or <{tag}>false</{tag}>.",
        )
        return bool(default)


def _refuse_dtd(*_: object) -> None:
    raise XmlSyntaxError("document type declarations are not allowed", None)


def parse_xml(data: bytes, file: str) -> XmlDoc:
    """Parse one metadata file; raise :class:`XmlSyntaxError` when it is not well formed."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    lines: dict[ET.Element, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = builder.start(tag.rsplit(" ", 1)[-1], attrs)
        lines[element] = parser.CurrentLineNumber

    def end(tag: str) -> None:
        builder.end(tag.rsplit(" ", 1)[-1])

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        raise XmlSyntaxError(expat.ErrorString(err.code), err.lineno) from err
    except XmlSyntaxError as err:
        raise XmlSyntaxError(str(err), parser.CurrentLineNumber) from err
    return XmlDoc(file, builder.close(), lines)


def _lines(children: Sequence[Child], depth: int) -> list[str]:
    pad = "    " * depth
    out: list[str] = []
    for tag, content in children:
        if isinstance(content, str):
            if tag == "value" and content.startswith("\0xsd:"):
                xsd_type, _, text = content[1:].partition("\0")
                out.append(f'{pad}<value xsi:type="{xsd_type}">{escape(text)}</value>')
            else:
                out.append(f"{pad}<{tag}>{escape(content)}</{tag}>")
        else:
            out.append(f"{pad}<{tag}>")
            out.extend(_lines(content, depth + 1))
            out.append(f"{pad}</{tag}>")
    return out


def typed_value(text: str, xsd_type: str = "xsd:string") -> str:
    """Mark a ``<value>`` to be written with ``xsi:type`` (custom field values)."""
    return f"\0{xsd_type}\0{text}"


def render(root: str, children: Sequence[Child]) -> str:
    """A metadata file's text: declaration, root in the metadata namespace, children."""
    body = _lines(children, 1)
    typed = any('xsi:type="' in line for line in body)
    extra = f' xmlns:xsi="{XSI}" xmlns:xsd="{XSD}"' if typed else ""
    head = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root} xmlns="{NS}"{extra}>']
    return "\n".join([*head, *body, f"</{root}>"]) + "\n"


__all__ = ["NS", "Child", "XmlDoc", "XmlSyntaxError", "parse_xml", "render", "typed_value"]
