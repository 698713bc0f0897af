#!/usr/bin/env python3
"""Generate each addon's README.rst from its readme/*.md fragments, as OCA's
``oca-gen-addon-readme`` does (OCA/maintainer-tools, tools/gen_addon_readme.py and its
template gen_addon_readme.rst.jinja).

That tool is not installable here: it is not published on PyPI and is installed from its git
repository, which these machines cannot reach (and it converts Markdown fragments with
pandoc).  This script, plain Python without Odoo, writes the same structure:

* the manifest's name as the title, the "generated file" comment with the source digest
  (the same sha256 over the manifest and readme/ as the OCA tool's, so its
  ``--if-source-changed`` would agree), the license badge only (the other OCA badges point
  at the OCA's GitHub, runboat and Weblate, which our addons are not on);
* DESCRIPTION, the table of contents, then the sections of the other fragments under the
  OCA titles (Use Cases / Context, Installation, Configuration, Usage, Development,
  Known issues / Roadmap, Changelog);
* Credits: Authors from the manifest, the CONTRIBUTORS / CREDITS fragments, Maintainers
  (the manifest's maintainers, a link to the project's website).  The OCA's Bug Tracker
  section is left out: it names the OCA repository's GitHub issues.

The Markdown of the fragments (GitHub flavour, without raw HTML, as the OCA tool reads it) is
converted to reStructuredText by ``md_to_rst``: headings (ATX and setext), paragraphs,
emphasis, strong, inline code, links and autolinks, backslash escapes, bullet and ordered
lists (nested, with code blocks inside), fenced and indented code blocks, block quotes and
pipe tables.  A construct it does not know (images, raw HTML, thematic breaks, hard line
breaks) stops the generation with an error instead of being written wrongly.
static/description/index.html is not generated: Odoo renders README.rst itself for the Apps
page when an addon has no index.html.

    bin/gen_addon_readme.py [--check] [ADDON_DIR ...]   (default: every addon in addons/)

``--check`` writes nothing and exits 1 listing the README.rst files that differ from what
their fragments give (``make readme`` writes them; tests/unit/test_addon_readme.py checks).
"""

import ast
import hashlib
import html
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS_DIR = "readme"
# (fragment, section title, heading level) in the OCA template's order
SECTIONS = [
    ("CONTEXT", "Use Cases / Context", 1),
    ("INSTALL", "Installation", 1),
    ("CONFIGURE", "Configuration", 1),
    ("USAGE", "Usage", 1),
    ("DEVELOP", "Development", 1),
    ("ROADMAP", "Known issues / Roadmap", 1),
    ("HISTORY", "Changelog", 1),
]
CREDIT_SECTIONS = [("CONTRIBUTORS", "Contributors", 2), ("CREDITS", "Other credits", 2)]
FRAGMENTS = ["DESCRIPTION"] + [name for name, _title, _level in SECTIONS + CREDIT_SECTIONS]
# the section adornment of each heading level, as pandoc's rst writer uses them (level 1 is
# a section of the README, the title above it has an overline)
UNDERLINES = "=-~^'"
LICENSE_BADGES = {
    "AGPL-3": ("AGPL--3", "http://www.gnu.org/licenses/agpl-3.0-standalone.html"),
    "LGPL-3": ("LGPL--3", "http://www.gnu.org/licenses/lgpl-3.0-standalone.html"),
    "GPL-3": ("GPL--3", "http://www.gnu.org/licenses/gpl-3.0-standalone.html"),
}


class UnsupportedMarkdown(ValueError):
    """A Markdown construct md_to_rst does not convert."""


# ---------------------------------------------------------------------------------------------
# inline Markdown -> reStructuredText

# characters after which / before which rst inline markup may start / end
_START_OK = set(" \t\n'\"([{<-/:‘“’«¡¿‐‑‒–— ")
_END_OK = set(" \t\n'\")]}>-/:.,;!?\\’”»‐‑‒–— ")
_MD_ESCAPABLE = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^\s<>]+)>")
_LINK = re.compile(r"\[((?:[^\[\]\\]|\\.)*)\]\(\s*<?([^\s()<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _escape_text(text):
    """Plain text as rst text: the characters rst would read as markup are escaped."""
    out = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else " "
        prev = text[i - 1] if i else " "
        if ch in "\\*`|":
            out.append("\\" + ch)
        elif ch == "_" and (not nxt.isalnum() or not prev.isalnum()):
            # "word_" is a reference and "_word" may be a target: escape the underscore there
            out.append("\\_")
        else:
            out.append(ch)
    return "".join(out)


class _Inline:
    """Parse a paragraph's Markdown inlines into (kind, text[, url]) tokens."""

    def __init__(self, text):
        self.text = text
        self.tokens = []
        self.plain = []

    def flush(self):
        if self.plain:
            self.tokens.append(("text", html.unescape("".join(self.plain))))
            self.plain = []

    def emit(self, *token):
        self.flush()
        self.tokens.append(token)

    def code_span(self, i):
        """A code span starting at i (a run of backticks), or None."""
        run = len(self.text[i:]) - len(self.text[i:].lstrip("`"))
        close = self.text.find("`" * run, i + run)
        while close != -1 and self.text[close + run : close + run + 1] == "`":
            close = self.text.find("`" * run, close + run + 1)
        if close == -1:
            return None
        code = self.text[i + run : close].replace("\n", " ")
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        return code, close + run

    def emphasis(self, i):
        """Emphasis or strong starting at i: ('em' | 'strong', inner, end) or None."""
        text = self.text
        for delim, kind in (("**", "strong"), ("__", "strong"), ("*", "em"), ("_", "em")):
            if not text.startswith(delim, i):
                continue
            after = text[i + len(delim) : i + len(delim) + 1]
            if not after or after.isspace() or (delim[0] == "_" and i and text[i - 1].isalnum()):
                return None
            j = i + len(delim)
            while True:
                j = text.find(delim, j)
                if j == -1:
                    return None
                closing_ok = (
                    not text[j - 1].isspace() and text[j + len(delim) : j + len(delim) + 1] != delim[0]
                )
                if delim[0] == "_":
                    closing_ok = closing_ok and not text[j + len(delim) : j + len(delim) + 1].isalnum()
                if closing_ok and j > i + len(delim):
                    return kind, text[i + len(delim) : j], j + len(delim)
                j += 1
        return None

    def parse(self):
        text, i = self.text, 0
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in _MD_ESCAPABLE:
                self.plain.append(text[i + 1])
                i += 2
            elif ch == "\\" and text[i + 1 : i + 2] == "\n":
                raise UnsupportedMarkdown("a hard line break (backslash at the end of a line)")
            elif ch == "`" and (span := self.code_span(i)):
                self.emit("code", span[0])
                i = span[1]
            elif ch == "!" and text.startswith("![", i):
                raise UnsupportedMarkdown(f"an image: {text[i : i + 40]!r}")
            elif ch == "[" and (m := _LINK.match(text, i)):
                self.emit("link", _plain_of(m.group(1)), m.group(2))
                i = m.end()
            elif ch == "<" and (m := _AUTOLINK.match(text, i)):
                self.emit("url", m.group(1))
                i = m.end()
            elif ch in "*_" and (em := self.emphasis(i)):
                self.emit(em[0], _plain_of(em[1]))
                i = em[2]
            elif ch == "<" and re.match(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>", text[i:]):
                raise UnsupportedMarkdown(f"raw HTML: {text[i : i + 40]!r}")
            else:
                self.plain.append(ch)
                i += 1
        self.flush()
        return self.tokens


def _plain_of(markdown):
    """The text of nested inline Markdown (rst cannot nest inline markup: it is dropped)."""
    parts = []
    for token in _Inline(markdown).parse():
        parts.append(token[1])
    return "".join(parts)


def _rst_markup(token):
    kind, value = token[0], token[1]
    if kind == "code":
        # Markdown already turned the code span's line breaks into spaces
        if "``" in value or not value.strip():
            raise UnsupportedMarkdown(f"a code span rst cannot write: {value!r}")
        return f"``{value.strip()}``"
    if kind == "strong":
        return f"**{_escape_text(value)}**"
    if kind == "em":
        return f"*{_escape_text(value)}*"
    if kind == "link":
        label = _escape_text(value).replace("<", "\\<")
        return f"`{label} <{token[2]}>`__"
    return value  # a bare URL: rst links it by itself


def inline_to_rst(text):
    """One paragraph's Markdown inlines as rst, its line breaks kept."""
    out = ""
    for token in _Inline(text).parse():
        if token[0] == "text":
            out += _escape_text(token[1])
            continue
        markup = _rst_markup(token)
        if out and out[-1] not in _START_OK:
            out += "\\ "  # rst inline markup must follow a space or an opening punctuation
        out += markup
        out += "\x00"  # marks where a markup ended, checked against the next character below
    # rst inline markup must be followed by a space or a closing punctuation
    return re.sub(r"\x00(?=.)(?![" + re.escape("".join(_END_OK)) + r"])", r"\\ ", out, flags=re.S).replace(
        "\x00", ""
    )


# ---------------------------------------------------------------------------------------------
# block Markdown -> reStructuredText

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^`\s]*)[^`]*$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BULLET = re.compile(r"^( {0,3})([-+*])( +|$)(.*)$")
_ORDERED = re.compile(r"^( {0,3})(\d{1,9})([.)])( +|$)(.*)$")
_HR = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TABLE_SEP = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
# a paragraph's first characters that rst would read as the start of another construct
_RST_BLOCK_START = re.compile(
    r"^(?:[-+*•‣⁃](?: |$)|\(?(?:\d+|[A-Za-z#]|[ivxlcdmIVXLCDM]+)[.)](?: |$)|\.\.(?: |$)|:\S|\||>>>|"
    r"([!-/:-@\[-`{-~])\1{3,}\s*$)"
)


def _is_blank(line):
    return not line.strip()


class _Blocks:
    """Parse Markdown lines into blocks: ('heading', level, text), ('para', text),
    ('code', lang, lines), ('list', ordered, start, items, loose), ('quote', blocks),
    ('table', rows)."""

    def __init__(self, lines):
        self.lines = lines
        self.i = 0

    def parse(self):
        blocks = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if _is_blank(line):
                self.i += 1
            else:
                blocks.append(self.block(line))
        return blocks

    def block(self, line):
        if _FENCE.match(line):
            return self.fenced()
        if m := _ATX.match(line):
            self.i += 1
            return ("heading", len(m.group(1)), (m.group(2) or "").strip())
        if _HR.match(line):
            raise UnsupportedMarkdown(f"a thematic break: {line!r}")
        if _BULLET.match(line) or _ORDERED.match(line):
            return self.list_block()
        if line.startswith("    ") or line.startswith("\t"):
            return self.indented_code()
        if line.lstrip().startswith(">"):
            return self.quote()
        if "|" in line and self.i + 1 < len(self.lines) and _TABLE_SEP.match(self.lines[self.i + 1]):
            return self.table()
        return self.paragraph()

    def fenced(self):
        m = _FENCE.match(self.lines[self.i])
        fence, indent = m.group("fence"), len(m.group("indent"))
        self.i += 1
        body = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            self.i += 1
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                break
            # the fence's own indentation (up to 3 spaces) is removed from its lines, no more
            body.append(re.sub(f"^ {{0,{indent}}}", "", line))
        return ("code", m.group("lang"), body)

    def indented_code(self):
        body = []
        while self.i < len(self.lines) and (
            self.lines[self.i].startswith("    ") or _is_blank(self.lines[self.i])
        ):
            body.append(self.lines[self.i][4:])
            self.i += 1
        while body and not body[-1].strip():
            body.pop()
        return ("code", "", body)

    def quote(self):
        inner = []
        while self.i < len(self.lines) and self.lines[self.i].lstrip().startswith(">"):
            inner.append(re.sub(r"^\s*> ?", "", self.lines[self.i]))
            self.i += 1
        return ("quote", _Blocks(inner).parse())

    def table(self):
        """A pipe table: its header row, the separator row (skipped), its body rows."""
        rows = [_table_cells(self.lines[self.i])]
        self.i += 2
        while self.i < len(self.lines) and "|" in self.lines[self.i] and not _is_blank(self.lines[self.i]):
            rows.append(_table_cells(self.lines[self.i]))
            self.i += 1
        return ("table", rows)

    def paragraph(self):
        text = [self.lines[self.i].strip()]
        self.i += 1
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if m := _SETEXT.match(line):
                # a setext underline, before a "---" could be read as a thematic break
                self.i += 1
                return ("heading", 1 if m.group(1)[0] == "=" else 2, " ".join(text))
            if _is_blank(line) or self._interrupts(line):
                break
            text.append(line.strip())
            self.i += 1
        return ("para", "\n".join(text))

    @staticmethod
    def _interrupts(line):
        if _FENCE.match(line) or _ATX.match(line) or line.lstrip().startswith(">") or _HR.match(line):
            return True
        bullet, ordered = _BULLET.match(line), _ORDERED.match(line)
        # CommonMark: a list interrupts a paragraph unless it is empty or an ordered one not at 1
        return bool((bullet and bullet.group(4).strip()) or (ordered and ordered.group(2) == "1"))

    def list_block(self):
        first = _ORDERED.match(self.lines[self.i])
        ordered = bool(first)
        start = int(first.group(2)) if first else 1
        items, loose = [], False
        while self.i < len(self.lines):
            m = _ORDERED.match(self.lines[self.i]) if ordered else _BULLET.match(self.lines[self.i])
            if not m:
                break
            item_lines, blank_inside = self.list_item(m, ordered)
            loose = loose or blank_inside
            items.append(_Blocks(item_lines).parse())
            if self.i < len(self.lines) and _is_blank(self.lines[self.i]):
                nxt = self._next_nonblank()
                follows = nxt is not None and (
                    (_ORDERED if ordered else _BULLET).match(self.lines[nxt]) is not None
                )
                if not follows:
                    break
                loose = True
                self.i = nxt
        return ("list", ordered, start, items, loose)

    def _next_nonblank(self):
        j = self.i
        while j < len(self.lines) and _is_blank(self.lines[j]):
            j += 1
        return j if j < len(self.lines) else None

    def list_item(self, m, ordered):
        """The lines of one list item, its content column removed."""
        marker_end = m.end(3 if ordered else 2)
        spaces = len(m.group(4 if ordered else 3))
        width = marker_end + (spaces if 1 <= spaces <= 4 else 1)
        lines = [m.group(5 if ordered else 4)]
        self.i += 1
        blank_inside = False
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if _is_blank(line):
                nxt = self._next_nonblank()
                if nxt is None or not self.lines[nxt].startswith(" " * width):
                    break
                lines.append("")
                blank_inside = True
            elif line.startswith(" " * width):
                lines.append(line[width:])
            elif not line.startswith(" ") and (_BULLET.match(line) or _ORDERED.match(line)):
                break
            elif lines[-1].strip() and not self._interrupts(line):
                lines.append(line.strip())  # a lazy continuation of the item's paragraph
            else:
                break
            self.i += 1
        return lines, blank_inside


def _table_cells(line):
    cells = line.strip()
    cells = cells[1:] if cells.startswith("|") else cells
    cells = cells[:-1] if cells.endswith("|") and not cells.endswith("\\|") else cells
    return [c.strip() for c in re.split(r"(?<!\\)\|", cells)]


def _indent(lines, prefix):
    return [prefix + line if line else "" for line in lines]


def _para_to_rst(text):
    rst = inline_to_rst(text)
    if _RST_BLOCK_START.match(rst):
        rst = "\\" + rst
    if rst.endswith("::"):
        rst = rst[:-2] + ":\\:"
    return rst.split("\n")


def _code_to_rst(lang, body):
    head = [f".. code:: {lang}", ""] if lang else ["::", ""]
    return head + _indent(body, "   ")


def _list_to_rst(ordered, start, items, loose):
    out = []
    for n, item in enumerate(items, start):
        marker = f"{n}. " if ordered else "- "
        body = blocks_to_rst(item) or [""]
        out.append(marker + body[0])
        out.extend(_indent(body[1:], " " * len(marker)))
        if loose or len(item) > 1:
            out.append("")
    while out and not out[-1]:
        out.pop()
    return out


def _table_to_rst(rows):
    # GFM: the header row sets the number of columns; other rows are cut or padded to it
    width = len(rows[0])
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        cells = (row + [""] * width)[:width]
        for k, cell in enumerate(cells):
            text = inline_to_rst(cell.replace("\\|", "|")) if cell else ""
            out.append((("   * - " if k == 0 else "     - ") + text).rstrip())
    return out


def _heading_to_rst(level, text, base_level):
    title = inline_to_rst(text).replace("\n", " ")
    char = UNDERLINES[min(level + base_level - 2, len(UNDERLINES) - 1)]
    return [title, char * len(title)]


def blocks_to_rst(blocks, base_level=1):
    out = []
    previous = None
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            lines = _heading_to_rst(block[1], block[2], base_level)
        elif kind == "para":
            lines = _para_to_rst(block[1])
        elif kind == "code":
            lines = _code_to_rst(block[1], block[2])
        elif kind == "list":
            lines = _list_to_rst(*block[1:])
        elif kind == "quote":
            lines = _indent(blocks_to_rst(block[1], base_level), "   ")
            if out and previous == "list":
                # an empty comment ends the list: the indented quote would continue its item
                lines = ["..", ""] + lines
        else:
            lines = _table_to_rst(block[1])
        if out:
            out.append("")
        out.extend(lines)
        previous = kind
    return out


def md_to_rst(markdown, base_level=1):
    """Markdown (GitHub flavour, no raw HTML) as reStructuredText; `base_level` is the rst
    heading level ("=", "-", "~", ...) of the Markdown's "#" headings: 1 in the README's
    sections, 2 in the credits' subsections, as the OCA tool shifts them."""
    lines = markdown.expandtabs(4).splitlines()
    return "\n".join(blocks_to_rst(_Blocks(lines).parse(), base_level)).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# README.rst of an addon


def read_manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text(encoding="utf-8"))


def source_digest(addon_dir):
    """sha256 of the manifest and the readme/ files, each its path relative to the addon then
    its content: the files and order of OCA's tools/_hash.py (os.walk with sorted names, no
    dot files), so that the digest is the one the OCA tool writes."""
    digest = hashlib.sha256()
    relpaths = ["__manifest__.py"]
    for dirpath, dirnames, filenames in os.walk(addon_dir / FRAGMENTS_DIR):
        dirnames.sort()
        reldir = os.path.relpath(dirpath, addon_dir)
        relpaths += [os.path.join(reldir, f) for f in sorted(filenames) if not f.startswith(".")]
    for relpath in relpaths:
        digest.update(relpath.encode("utf-8"))
        digest.update((addon_dir / relpath).read_bytes())
    return "sha256:" + digest.hexdigest()


def _fragments(addon_dir):
    out = {}
    for name in FRAGMENTS:
        md, rst = addon_dir / FRAGMENTS_DIR / f"{name}.md", addon_dir / FRAGMENTS_DIR / f"{name}.rst"
        if rst.exists():
            raise SystemExit(f"{rst}: this generator reads Markdown fragments only")
        if md.exists() and md.read_text(encoding="utf-8").strip():
            out[name] = md.read_text(encoding="utf-8")
    return out


def _fragment_rst(fragments, name, base_level):
    try:
        return md_to_rst(fragments[name], base_level=base_level).rstrip()
    except UnsupportedMarkdown as exc:
        raise SystemExit(f"readme/{name}.md: {exc}") from exc


def _section(fragments, name, title, level):
    """A README section of `level` (1: "=", 2: "-") with the fragment's rst, if there is one.
    As with the OCA tool, a fragment's "#" heading is at the section's own level and "##"
    below it (OCA's fragments start their headings at "##")."""
    if name not in fragments:
        return []
    return [title, UNDERLINES[level - 1] * len(title), "", _fragment_rst(fragments, name, level), ""]


def render_readme(addon_dir):
    manifest = read_manifest(addon_dir)
    fragments = _fragments(addon_dir)
    name = manifest["name"]
    out = ["=" * len(name), name, "=" * len(name), ""]
    out += [
        "..",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "   !! This file is generated by bin/gen_addon_readme.py  !!",
        "   !! from readme/*.md: changes will be overwritten.     !!",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        f"   !! source digest: {source_digest(addon_dir)}",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
    ]
    badge = LICENSE_BADGES.get(manifest.get("license"))
    if badge:
        out += [
            f".. |badge1| image:: https://img.shields.io/badge/license-{badge[0]}-blue.png",
            f"    :target: {badge[1]}",
            f"    :alt: License: {manifest['license']}",
            "",
            "|badge1|",
            "",
        ]
    if "DESCRIPTION" in fragments:
        out += [_fragment_rst(fragments, "DESCRIPTION", 1), ""]
    if manifest.get("development_status", "").lower() == "alpha":
        out += [
            ".. IMPORTANT::",
            "   This is an alpha version, the data model and design can change at any time without warning.",
            "   Only for development or testing purpose, do not use in production.",
            "",
        ]
    out += ["**Table of contents**", "", ".. contents::", "   :local:", ""]
    for fragment, title, level in SECTIONS:
        out += _section(fragments, fragment, title, level)
    out += ["Credits", "=======", ""]
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    if authors:
        out += ["Authors", "-------", ""] + [f"* {_escape_text(a)}" for a in authors] + [""]
    for fragment, title, level in CREDIT_SECTIONS:
        out += _section(fragments, fragment, title, level)
    out += ["Maintainers", "-----------", ""]
    maintainers = manifest.get("maintainers") or []
    if maintainers:
        out += ["Current maintainer" + ("s" if len(maintainers) > 1 else "") + ":", ""]
        out += [f"* {_escape_text(m)}" for m in maintainers] + [""]
    website = manifest.get("website")
    project = f"`{_escape_text(authors[0] if authors else 'the')} <{website}>`__" if website else "OpticsERP"
    out += [f"This module is part of the {project} project.", ""]
    return "\n".join(out).rstrip() + "\n"


def addon_dirs(args):
    if args:
        return [Path(a).resolve() for a in args]
    return sorted(p.parent for p in (ROOT / "addons").glob("*/__manifest__.py"))


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    stale = []
    for addon_dir in addon_dirs(args):
        if not (addon_dir / FRAGMENTS_DIR / "DESCRIPTION.md").exists():
            continue
        readme = addon_dir / "README.rst"
        text = render_readme(addon_dir)
        current = readme.read_text(encoding="utf-8") if readme.exists() else None
        if current == text:
            continue
        stale.append(readme)
        if not check:
            readme.write_text(text, encoding="utf-8")
            print(f"wrote {readme.relative_to(ROOT) if readme.is_relative_to(ROOT) else readme}")
    if check and stale:
        print("README.rst out of date with readme/*.md (run `make readme`):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
