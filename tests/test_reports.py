"""``archspec check --format markdown|html``: for the whole zoo, the Markdown parses (with an
independent CommonMark + GFM-tables parser) into the layer table and the totals, and the HTML
page into one table row per layer, with no script and no external request; text from specs
is escaped; --json and the terminal table are what they were."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_helpers import markdown_tables
from markdown_it import MarkdownIt

import archspec
from archspec.cli import main
from archspec.reports import document
from archspec.reports.html import check_html
from archspec.reports.markdown import check_markdown

SPECS = Path(__file__).resolve().parent.parent / "specs"
ZOO = sorted(SPECS.glob("*.yaml"))
HOSTILE = '<script>alert("x")</script> | a *b* [c](http://example.com) `d` & <b>e</b>\n# f'


class Page(HTMLParser):
    """Tags, the text of each element class, and whether nesting balances."""
    VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.problems = [], [], []
        self.texts: dict[str, list[str]] = {}
        self.rows = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr" and "tbody" in [t for t, _ in self.stack]:
            self.rows += 1
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("class")))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        for _, cls in self.stack[-1:]:
            if cls:
                self.texts.setdefault(cls, []).append(data)


@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_zoo_markdown_is_the_layer_table_and_totals(path):
    report = archspec.check(path)
    text = check_markdown(report)
    assert text.startswith(f"## {report.name.replace('_', chr(92) + '_')}\n")
    layers, totals = markdown_tables(text)
    assert len(layers) == 1 + len(report.layers) and {len(r) for r in layers} == {8}
    assert [r[0] for r in layers[1:]] == [f"`{row.name}`" for row in report.layers]
    assert [r[3] for r in layers[1:]] == [f"{row.trainable_params:,}" for row in report.layers]
    assert dict(totals[1:])["Total params"].startswith(f"{report.totals['total_params']:,} (")


@pytest.mark.parametrize("path", ZOO, ids=[p.stem for p in ZOO])
def test_zoo_html_is_one_self_contained_page(path):
    report = archspec.check(path)
    page = Page(check_html([report]))
    assert page.problems == [] and page.stack == []
    assert page.rows == len(report.layers)
    assert page.texts["name"] == [row.name for row in report.layers]
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert all("src" not in attrs and "href" not in attrs for _, attrs in page.tags)


def test_html_has_no_external_request_and_one_style():
    text = check_html([archspec.check(SPECS / "googlenet.yaml")])
    assert text.count("<style>") == 1 and "@import" not in text
    assert re.findall(r"url\(([^)]*)\)", text) and \
        all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", text))  # in-page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text  # a name, not a request
    assert not re.search(r"https?://", text.replace('xmlns="http://www.w3.org/2000/svg"', ""))


def hostile_spec() -> dict:
    return {"name": "odd-name.v1", "description": HOSTILE, "input": {"shape": [4]},
            "layers": [{"Dense": {"units": 2, "name": "d"}}]}


def test_spec_text_cannot_break_the_markdown():
    text = check_markdown(archspec.check(hostile_spec()))
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in rendered and "<b>" not in rendered and "<a " not in rendered
    assert "<h1>" not in rendered and "<code>d</code>" in rendered  # the layer, not `d`
    (description,) = [line for line in text.splitlines() if "alert" in line]
    assert "|" not in description.replace("\\|", "")
    paragraph = re.search(r"<p>(.*alert.*)</p>", rendered).group(1)
    unescaped = paragraph.replace("&lt;", "<").replace("&gt;", ">").replace(
        "&quot;", '"').replace("&amp;", "&")
    assert unescaped == " ".join(HOSTILE.split())  # the text itself, shown literally
    layers, _ = markdown_tables(text)
    assert len(layers) == 2 and len(layers[1]) == 8


def test_spec_text_cannot_break_the_html():
    page = Page(check_html([archspec.check(hostile_spec())]))
    assert page.problems == [] and page.rows == 1
    assert "".join(page.texts["description"]) == HOSTILE
    assert {tag for tag, _ in page.tags}.isdisjoint({"script", "b", "a"})


def test_the_diagram_goes_inline_without_its_xml_prolog():
    svg = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG '
           '1.1//EN" "x.dtd">\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
           "<text>conv1</text></svg>")
    text = check_html([archspec.check(SPECS / "mnist_cnn.yaml")], diagram=lambda graph: svg)
    assert '<figure class="diagram">\n<svg xmlns=' in text
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert Page(text).problems == []


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_formats():
    files = [str(SPECS / "mnist_cnn.yaml"), str(SPECS / "lenet5.yaml")]
    text = cli("check", *files, "--format", "markdown")
    assert text.exit_code == 0
    assert [line for line in text.output.splitlines() if line.startswith("## ")] == \
        ["## mnist\\_cnn", "## lenet5"]
    page = cli("check", *files, "--format", "html")
    assert page.exit_code == 0 and page.output.count("<html") == 1
    assert Page(page.output).rows == 7 + 8
    assert cli("check", files[0], "--json", "--format", "html").exit_code == 2


def test_json_and_table_are_unchanged_by_the_option():
    spec = str(SPECS / "resnet_course.yaml")
    table = cli("check", spec)
    assert table.exit_code == 0 and table.output == cli("check", spec, "--format", "table").output
    assert "Trainable params:" in table.output and "| " not in table.output
    as_json = cli("check", spec, "--json").output
    assert as_json == cli("check", spec, "--format", "json").output
    assert json.loads(as_json) == archspec.check(SPECS / "resnet_course.yaml").to_dict()


def test_invalid_spec_in_a_document_run_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ninput: {shape: [8]}\nlayers:\n  - Dens: {units: 3}\n")
    result = cli("check", str(SPECS / "mnist_ann.yaml"), str(bad), "--format", "markdown")
    assert result.exit_code == 1 and "## mnist\\_ann" in result.output
    assert "unknown layer type 'Dens'" in result.output


def test_document_refuses_unknown_formats():
    with pytest.raises(ValueError):
        document([], "pdf")
