"""What in an HTML fragment could run script in a browser — judged on the parsed document,
not on the text (escaped text that merely looks like markup is harmless)."""

from __future__ import annotations

import re

import lxml.html

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
BAD_TAGS = {"script", "iframe", "frame", "object", "embed", "style", "form", "base", "meta", "link"}


def dangerous(fragment: str) -> list[str]:
    """What in an HTML fragment could run script: bad elements, on* attributes,
    javascript:/data: URLs (text that merely looks like markup is fine)."""
    found = []
    text = _CONTROL.sub("", fragment)  # lxml refuses them; browsers drop them too
    for root in lxml.html.fragments_fromstring(f"<div>{text}</div>"):
        if not hasattr(root, "iter"):
            continue
        for el in root.iter():
            tag = el.tag if isinstance(el.tag, str) else ""
            if tag.lower() in BAD_TAGS:
                found.append(tag)
            for name, value in el.attrib.items():
                if name.lower().startswith("on"):
                    found.append(name)
                if re.match(r"\s*(javascript|vbscript|data):", value, re.I) and name in {
                    "href",
                    "src",
                    "action",
                    "formaction",
                    "background",
                }:
                    found.append(f"{name}={value[:20]}")
    return found
