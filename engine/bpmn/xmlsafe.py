"""The one XML parser configuration of the engine: no DTD, no entities, no network, no huge trees.

Deploying a file and starting a case on it read the same bytes with the same
parser, so what deploy checked is what runs. A document type declaration is
refused outright: BPMN never needs one, and internal entities could otherwise
smuggle text past the deploy-time checks (issue 16 item 2).
"""

from __future__ import annotations

from lxml import etree


class UnsafeXml(ValueError):
    """The XML is malformed or declares a DTD or entities; ``line`` is where, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False)


def parse(content: bytes) -> etree._Element:
    """Parse XML bytes into their root element; refuse malformed XML, a DOCTYPE and entity references."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"malformed XML: {exc.msg}", exc.lineno) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("a DOCTYPE (DTD or entity declarations) is not allowed in a BPMN file", 1)
    for node in root.iter(etree.Entity):
        raise UnsafeXml(f"entity reference {node.text} is not allowed in a BPMN file", node.sourceline)
    return root
