"""``archspec diff``: two specs, or one spec under two sets of parameters, compared layer by
layer. Registered on the main command group by ``archspec.cli``."""

from __future__ import annotations

import sys

import click

from .cli_common import _extends_root, _max_layers


def _label(source: str, sets: tuple[str, ...]) -> str:
    """The source and the parameters it was read with, a later KEY= replacing an earlier."""
    from .spec.reading import display_name
    latest = {text.partition("=")[0].strip(): text for text in sets}
    return " ".join([display_name(source)] + [f"--set {text}" for text in latest.values()])


def _graphs(specs: tuple[str, ...], sets: tuple[str, ...], vs: tuple[str, ...]):
    """(graph A, graph B, label A, label B); B is the second spec, or the first again under
    --vs. Raises SpecError."""
    from .analysis import analyze
    from .cli_common import _limit, _load, _overrides

    both, only_b = _overrides(sets), _overrides(vs)
    limit = _limit("max_layers")
    first = _load(specs[0], both or None)
    if len(specs) == 2:
        second, source_b = _load(specs[1], {**both, **only_b} or None), specs[1]
    else:  # the spec is read once: it may be standard input
        second, source_b = first.with_params(**only_b), specs[0]
    return (analyze(first, max_layers=limit), analyze(second, max_layers=limit),
            _label(specs[0], sets), _label(source_b, sets + vs))


@click.command(name="diff")
@click.argument("specs", nargs=-1, required=True, metavar="A [B]")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter on both sides (repeatable).")
@click.option("--vs", "vs", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter on side B only, after --set (repeatable). With one "
                   "spec, B is that spec again: --set depth=50 --vs depth=101.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", show_default=True,
              help="A terminal table, a stable JSON object, or Markdown for a pull request.")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--all", "show_all", is_flag=True, help="List every change of long diffs.")
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when the models differ, as git diff --exit-code (default: 0 "
                   "whether or not they differ; an invalid spec is 1 either way).")
@_extends_root
@_max_layers
def diff_command(specs: tuple[str, ...], sets: tuple[str, ...], vs: tuple[str, ...],
                 fmt: str, as_json: bool, show_all: bool, exit_code: bool) -> None:
    """Compare two specs A and B, or one spec A under --set and --vs parameters: layers added,
    removed and changed (arguments, output shape, parameter and MAC deltas), then the totals.
    Layers pair by name, then by structure (order, type, arguments); unchanged layers are
    counted, not listed. docs/reports.md has the details and the JSON keys."""
    from .cli_common import EXIT_INVALID, EXIT_OK, _console, _report_errors
    from .errors import SpecError

    if len(specs) > 2:
        raise click.UsageError(f"diff compares two specs, got {len(specs)}")
    if len(specs) == 1 and not vs:
        raise click.UsageError("give two specs, or one spec with --vs KEY=VALUE for side B")
    fmt = "json" if as_json else fmt
    try:
        graph_a, graph_b, label_a, label_b = _graphs(specs, sets, vs)
    except SpecError as exc:
        _report_errors(exc, fmt == "json", " / ".join(specs))
        sys.exit(EXIT_INVALID)
    from .diff import diff_graphs
    result = diff_graphs(graph_a, graph_b, label_a, label_b)
    if fmt == "json":
        import json
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif fmt == "markdown":
        from .reports.markdown import diff_markdown
        click.echo(diff_markdown(result), nl=False)
    else:
        from .reports.diff_table import render_diff
        render_diff(result, _console(), max_rows=None if show_all else 200)
    sys.exit(EXIT_INVALID if exit_code and not result.identical else EXIT_OK)
