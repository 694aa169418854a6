"""``package.xml``: the manifest that lists what a Metadata API deploy or retrieve holds.

>>> text = package_xml({"Territory2Type": ["City", "Country"], "Territory2Model": ["M"]}, "52.0")
>>> print(text, end="")
<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>
        <members>M</members>
        <name>Territory2Model</name>
    </types>
    <types>
        <members>City</members>
        <members>Country</members>
        <name>Territory2Type</name>
    </types>
    <version>52.0</version>
</Package>
>>> read_package_version(text.encode(), "package.xml")
'52.0'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from territorial.io.salesforce.xmltree import Child, XmlSyntaxError, parse_xml, render

DEFAULT_API_VERSION = "60.0"


def package_xml(members: Mapping[str, Iterable[str]], version: str = DEFAULT_API_VERSION) -> str:
    """A manifest listing ``members`` by metadata type, types and members sorted."""
    types: list[Child] = [
        (
            "types",
            [*(("members", m) for m in sorted(set(names))), ("name", kind)],
        )
        for kind, names in sorted(members.items())
        if names
    ]
    return render("Package", [*types, ("version", version)])


def read_package_version(data: bytes, file: str) -> str | None:
    """The API version a manifest names, or None (also when it cannot be read)."""
    try:
        doc = parse_xml(data, file)
    except XmlSyntaxError:
        return None
    return doc.text(doc.root, "version") or None


__all__ = ["DEFAULT_API_VERSION", "package_xml", "read_package_version"]
