"""Checks the DOM headless Chromium rendered from the review pages (see check.sh).

The pages mark what each element is with data-* attributes; this reads them back from the
browser's DOM (not from the HTML the tool wrote), so a page the browser parses differently
from what was meant (an unescaped '<' in a remark, a broken table) fails here.
Prints one closing line 'N passed, N failed'.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from html.parser import HTMLParser


class Elements(HTMLParser):
    """Every element's tag and attributes, and the text inside each element kind we need."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: str) -> Elements:
    parser = Elements()
    with open(path, encoding="utf-8") as f:
        parser.feed(f.read())
    return parser


def classes(attrs: dict[str, str]) -> set[str]:
    return set(attrs.get("class", "").split())


def png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog-dom", required=True)
    ap.add_argument("--catalog-json", required=True)
    ap.add_argument("--diff-dom", required=True)
    ap.add_argument("--screenshots", nargs="+", default=[])
    ap.add_argument("--pdfs", nargs="+", default=[])
    args = ap.parse_args()

    catalog = parse(args.catalog_dom)
    diff = parse(args.diff_dom)
    with open(args.catalog_json, encoding="utf-8") as f:
        exported = json.load(f)

    @check
    def catalog_shows_all_33_entries_with_their_levels():
        entries = [a for t, a in catalog.elements if t == "article" and "entry" in classes(a)]
        shown = {a["data-entry-id"]: a["data-title-level"] for a in entries}
        expected = {c["id"]: c["title_level"] for c in exported["certificates"]}
        assert len(entries) == 33, f"{len(entries)} entries"
        assert shown == expected, f"shown {shown} != exported {expected}"

    @check
    def catalog_shows_its_sections_rules_not_listed_and_cases():
        sections = [a for t, a in catalog.elements if t == "section" and "data-section" in a]
        assert [a["data-section"] for a in sections] == ["1", "2", "3"], sections
        rules = [a for t, a in catalog.elements if t == "li" and "rule" in classes(a)]
        assert len(rules) == 10, f"{len(rules)} rules"
        quotes = [a for t, a in catalog.elements if t == "blockquote"]
        assert len(quotes) == len(rules), "every rule quotes its sentence"
        not_listed = [a for t, a in catalog.elements if t == "tr" and "not-listed" in classes(a)]
        assert len(not_listed) == 10, f"{len(not_listed)} not-listed rows"
        cases = [a for t, a in catalog.elements if t == "tr" and "case" in classes(a)]
        assert len(cases) > 33, f"{len(cases)} cases"
        failing = [a for a in cases if a.get("data-outcome") != "pass"]
        assert not failing, f"{len(failing)} failing cases on the page"
        text = "".join(catalog.text)
        assert "申报高一级职称需取得高级会计专业技术资格" in text

    @check
    def catalog_page_is_self_contained():
        for tag, attrs in catalog.elements + diff.elements:
            assert tag not in ("script", "link", "img", "iframe"), tag
            for key in ("src", "href"):
                value = attrs.get(key, "")
                assert not value or value.startswith("#"), f"{tag} {key}={value}"

    @check
    def diff_shows_the_changed_level():
        rows = [a for t, a in diff.elements if t == "tr" and "level-change" in classes(a)]
        assert [(a["data-entry-id"], a["data-old-level"], a["data-new-level"]) for a in rows] == [
            ("cfa", "中级", "副高级")
        ], rows
        changes = [a for t, a in diff.elements if t == "article" and "data-change" in a]
        assert [(a["data-change"], a["data-entry-id"]) for a in changes] == [
            ("changed", "cfa")
        ], changes
        fields = [a["data-field"] for t, a in diff.elements if t == "tr" and "data-field" in a]
        assert fields == ["title_level"], fields

    @check
    def screenshots_and_print_renderings_exist():
        for path in args.screenshots:
            width, height = png_size(path)
            assert (width, height) == (1280, 2400), f"{path}: {width}x{height}"
        for path in args.pdfs:
            with open(path, "rb") as f:
                data = f.read()
            assert data.startswith(b"%PDF-"), path
            assert data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 1, path

    passed = failed = 0
    for fn in CHECKS:
        try:
            fn()
        except AssertionError as e:
            failed += 1
            print(f"FAIL {fn.__name__}: {e}")
        else:
            passed += 1
            print(f"ok   {fn.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
