#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks an `mq bench` HTML report for the report tests.

Usage: check_report_html.py REPORT.html [OUT_DIR]

Parses the page with html.parser (every element closed in order, no scripts,
no external resources) and every <svg> element with xml.etree (well-formed
XML). Charts (role="img") are written to OUT_DIR/chart-N.svg when OUT_DIR is
given. Prints one JSON object: {"errors": [...], "charts": [{"title", "file",
"lines": [{"series", "run", "points"}]}], "swatches": N}.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "link", "img", "audio", "video", "image", "use",
                  "foreignobject"}
SVG = "{http://www.w3.org/2000/svg}"


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []

    def check_attrs(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.errors.append(f"forbidden element <{tag}>")
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") or name.startswith("on"):
                self.errors.append(f"attribute {name} on <{tag}>")
            if value and ("url(" in value or "javascript:" in value):
                self.errors.append(f"external reference in {name} of <{tag}>")

    def handle_starttag(self, tag, attrs):
        self.check_attrs(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.check_attrs(tag, attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
        else:
            self.stack.pop()


def main():
    path = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    result = {"errors": [], "charts": [], "swatches": 0}
    if not text.startswith("<!DOCTYPE html>"):
        result["errors"].append("no <!DOCTYPE html>")
    checker = Checker()
    checker.feed(text)
    checker.close()
    result["errors"] += checker.errors
    if checker.stack:
        result["errors"].append(f"unclosed elements: {checker.stack}")
    if re.search(r"@import|https?://(?!www\.w3\.org/2000/svg)", text):
        result["errors"].append("reference to a network resource")
    for i, m in enumerate(re.finditer(r"<svg\b.*?</svg>", text, re.S)):
        try:
            root = ET.fromstring(m.group(0))
        except ET.ParseError as e:
            result["errors"].append(f"svg {i}: {e}")
            continue
        if root.get("role") != "img":
            result["swatches"] += 1
            continue
        chart = {"title": root.findtext(SVG + "title"), "file": None, "lines": []}
        for pl in root.iter(SVG + "polyline"):
            chart["lines"].append({"series": pl.get("data-series"), "run": pl.get("data-run"),
                                   "points": len(pl.get("points", "").split())})
        if out_dir:
            chart["file"] = os.path.join(out_dir, f"chart-{len(result['charts'])}.svg")
            with open(chart["file"], "w", encoding="utf-8") as f:
                f.write(m.group(0))
        result["charts"].append(chart)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
