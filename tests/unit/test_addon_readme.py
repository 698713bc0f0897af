"""Each addon's README.rst is generated from its readme/*.md fragments by
bin/gen_addon_readme.py (`make readme`), as OCA's oca-gen-addon-readme does.  A fragment edited
without regenerating leaves a stale README.rst: these tests fail then.  The Markdown to
reStructuredText conversion is checked on what the fragments use and on what they may use."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDONS = sorted(p.parent for p in (ROOT / "addons").glob("*/__manifest__.py"))
_spec = importlib.util.spec_from_file_location("gen_addon_readme", ROOT / "bin" / "gen_addon_readme.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

docutils_core = pytest.importorskip("docutils.core")


def render(rst):
    """HTML body of `rst`; any docutils warning or error fails (as the OCA tool's check)."""
    parts = docutils_core.publish_parts(
        rst,
        writer_name="html4css1",
        settings_overrides={
            "halt_level": 2,
            "report_level": 2,
            "file_insertion_enabled": False,
            "raw_enabled": False,
            "syntax_highlight": "none",
        },
    )
    return parts["body"]


@pytest.mark.parametrize("addon", ADDONS, ids=lambda p: p.name)
def test_readme_is_generated_from_the_fragments(addon):
    assert (addon / "readme" / "DESCRIPTION.md").exists(), f"{addon.name} has no readme/DESCRIPTION.md"
    readme = addon / "README.rst"
    assert readme.exists(), f"{addon.name}/README.rst is missing: run `make readme`"
    assert readme.read_text(encoding="utf-8") == gen.render_readme(addon), (
        f"{addon.name}/README.rst is stale against readme/*.md: run `make readme` and commit it"
    )


@pytest.mark.parametrize("addon", ADDONS, ids=lambda p: p.name)
def test_readme_renders_without_a_docutils_warning(addon):
    html = render((addon / "README.rst").read_text(encoding="utf-8"))
    assert "Configuration</a>" in html and "Usage</a>" in html  # the table of contents


def test_the_digest_covers_the_manifest_and_the_fragments(tmp_path):
    addon = tmp_path / "demo_addon"
    (addon / "readme").mkdir(parents=True)
    (addon / "__manifest__.py").write_text('{"name": "Demo", "license": "LGPL-3", "author": "OpticsERP"}')
    (addon / "readme" / "DESCRIPTION.md").write_text("Does things.\n")
    first = gen.source_digest(addon)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    (addon / "readme" / "USAGE.md").write_text("Use it.\n")
    second = gen.source_digest(addon)
    (addon / "__manifest__.py").write_text('{"name": "Demo 2", "license": "LGPL-3", "author": "OpticsERP"}')
    assert len({first, second, gen.source_digest(addon)}) == 3
    readme = gen.render_readme(addon)
    assert readme.startswith("======\nDemo 2\n======\n")
    assert "Usage\n=====\n\nUse it.\n" in readme and "Configuration" not in readme
    assert "license-LGPL--3-blue" in readme
    render(readme)


def test_check_mode_reports_a_stale_readme(tmp_path, capsys):
    addon = tmp_path / "demo_addon"
    (addon / "readme").mkdir(parents=True)
    (addon / "__manifest__.py").write_text('{"name": "Demo", "license": "LGPL-3", "author": "OpticsERP"}')
    (addon / "readme" / "DESCRIPTION.md").write_text("Does things.\n")
    assert gen.main(["--check", str(addon)]) == 1
    assert gen.main([str(addon)]) == 0 and (addon / "README.rst").exists()
    assert gen.main(["--check", str(addon)]) == 0
    (addon / "readme" / "DESCRIPTION.md").write_text("Does other things.\n")
    assert gen.main(["--check", str(addon)]) == 1
    assert "README.rst out of date" in capsys.readouterr().out


def test_inline_markup():
    rst = gen.md_to_rst(
        "Some *em*, **strong**, `code`s, a [link](https://example.com/a_b) and "
        "<https://example.org/x>; a_b, foo_ and 2 * 3 | 4, \\*not em\\*, C:\\\\dir.\n"
    )
    assert rst == (
        "Some *em*, **strong**, ``code``\\ s, a `link <https://example.com/a_b>`__ and "
        "https://example.org/x; a_b, foo\\_ and 2 \\* 3 \\| 4, \\*not em\\*, C:\\\\dir.\n"
    )
    html = render(rst)
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert '<tt class="docutils literal">code</tt>s' in html
    assert '<a class="reference external" href="https://example.com/a_b">link</a>' in html
    assert "foo_ and 2 * 3 | 4, *not em*, C:\\dir." in html


def test_blocks_headings_lists_code_quote_table():
    md = (
        "# Title\n\nText **bold**\nover two lines.\n\n## Sub\n\n"
        "1. first\n2. second\n   continued\n\n   - nested `x`\n   - nested 2\n\n3. third\n\n"
        "- item\n\n  ```ini\n  [options]\n  workers = 4\n  ```\n\n"
        "> quoted *text*\n\n"
        "| A | **B** |\n|---|:-:|\n| 1 | `x` |\n| 2 |\n\n"
        "Setext\n------\n\n    indented code\n\nEnds with::\n"
    )
    rst = gen.md_to_rst(md, base_level=2)
    assert rst.startswith("Title\n-----\n\nText **bold**\nover two lines.\n\nSub\n~~~\n")
    # a loose list (a blank line between two items): its items are separated by blank lines
    assert "1. first\n\n2. second\n   continued\n\n   - nested ``x``\n   - nested 2\n\n3. third" in rst
    assert "- item\n\n  .. code:: ini\n\n     [options]\n     workers = 4" in rst
    assert "..\n\n   quoted *text*" in rst
    table = ".. list-table::\n   :header-rows: 1\n\n   * - A\n     - **B**\n"
    table += "   * - 1\n     - ``x``\n   * - 2\n     -\n"
    assert table in rst
    assert "Setext\n~~~~~~\n\n::\n\n   indented code\n\nEnds with:\\:\n" in rst
    html = render(rst)
    assert html.count("<ol") == 1 and html.count("<ul") == 2 and "<table" in html
    assert "workers = 4" in html and "<blockquote>" in html and "Ends with::" in html


def test_code_keeps_its_indentation():
    md = '```json\n{"a": [1,\n      2]}\n```\n\n- item\n\n  ```sh\n  run \\\n      --flag\n  ```\n'
    rst = gen.md_to_rst(md)
    assert rst == (
        '.. code:: json\n\n   {"a": [1,\n         2]}\n\n'
        "- item\n\n  .. code:: sh\n\n     run \\\n         --flag\n"
    )
    html = render(rst)
    assert "[1,\n      2]}" in html and "run \\\n    --flag" in html


def test_a_paragraph_that_rst_would_read_as_a_list_is_escaped():
    rst = gen.md_to_rst("A. Smith wrote it.\n\n1\\. not a list\n")
    assert rst == "\\A. Smith wrote it.\n\n\\1. not a list\n"
    assert "<ol" not in render(rst)


@pytest.mark.parametrize(
    "md",
    ["![logo](static/logo.png)\n", "text <b>bold</b>\n", "before\n\n---\n\nafter\n", "line\\\nbreak\n"],
    ids=["image", "raw html", "thematic break", "hard break"],
)
def test_what_it_cannot_convert_stops_the_generation(md):
    with pytest.raises(gen.UnsupportedMarkdown):
        gen.md_to_rst(md)
