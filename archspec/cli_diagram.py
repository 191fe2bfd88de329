"""``archspec diagram``: draw a spec's architecture (SVG, Mermaid, DOT or PNG). Registered on
the main command group by ``archspec.cli``."""

from __future__ import annotations

import sys

import click

from .cli_common import _extends_root, _max_layers

SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
            ".mermaid": "mermaid", ".md": "mermaid"}


def _format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    if not output:
        return "svg"
    suffix = "." + output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if suffix not in SUFFIXES:
        raise click.UsageError(f"cannot tell the format from {output!r}: name it .svg, .png, "
                               f".mmd, .md or .dot, or give --format")
    return SUFFIXES[suffix]


def _mermaid_limit(text: str) -> None:
    from .diagram.text import MERMAID_MAX_EDGES
    edges = text.count(" --> ") + text.count(" -.-> ")
    if edges > MERMAID_MAX_EDGES:
        click.echo(f"archspec: warning: {edges} edges; Mermaid (and so GitHub) draws at most "
                   f"{MERMAID_MAX_EDGES}: expand fewer blocks, or write .svg", err=True)


@click.command(name="diagram")
@click.argument("spec")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write here (default: standard output); the suffix picks the format: "
                   ".svg, .png, .mmd (Mermaid), .md (Mermaid in a Markdown block), .dot.")
@click.option("--format", "fmt", type=click.Choice(["svg", "mermaid", "dot", "png"]),
              help="The format, when -o's suffix does not say it (default svg).")
@click.option("--expand", multiple=True, is_flag=False, flag_value="*", metavar="[NAME]",
              help="Open collapsed blocks: alone, all of them; with a NAME, the blocks or "
                   "stages of that name (layer1, inception3a) or every call of that block "
                   "(bottleneck). Repeatable.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable).")
@_extends_root
@_max_layers
def diagram_command(spec: str, output: str | None, fmt: str | None, expand: tuple[str, ...],
                    sets: tuple[str, ...]) -> None:
    """Draw SPEC: every layer (or collapsed block) with its type, output shape and
    parameters, edges as the layers read each other, colours by kind of layer."""
    from .analysis import analyze
    from .cli_common import EXIT_INVALID, _limit, _load, _overrides, _report_errors
    from .diagram import render
    from .errors import SpecError

    fmt = _format(fmt, output)
    if fmt == "png" and not output:
        raise click.UsageError("PNG is binary: write it to a file with -o diagram.png")
    try:
        graph = analyze(_load(spec, _overrides(sets) or None), max_layers=_limit("max_layers"))
    except SpecError as exc:
        _report_errors(exc, False, spec)
        sys.exit(EXIT_INVALID)
    try:
        data = render(graph, fmt, expand)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expand") from None
    except ImportError as exc:
        raise click.UsageError(str(exc)) from None
    if fmt == "mermaid":
        _mermaid_limit(data)
        if output and output.lower().endswith(".md"):
            data = f"```mermaid\n{data}```\n"
    if output:
        from .cli_common import _write
        _write(output, data)
        click.echo(f"wrote {output} ({fmt}, {len(graph.live())} layers)", err=True)
    else:
        click.echo(data, nl=False)
