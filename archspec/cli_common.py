"""What every ``archspec`` command shares: exit codes, consoles, the options that load a spec
(--set, --extends-root, --max-layers, --max-params), and how errors are reported. The command
modules (cli, cli_export, cli_import) import it; it imports none of them."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .errors import SpecError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what cat and grep return


def _console(stderr: bool = False, rich: bool = False):
    """rich on a terminal (or with FORCE_COLOR); plain text into pipes and files, where styling
    is dropped anyway and importing rich would cost ~15 ms of a 150 ms budget."""
    stream = sys.stderr if stderr else sys.stdout
    if rich or stream.isatty() or os.environ.get("FORCE_COLOR"):
        from rich.console import Console
        return Console(file=stream, width=None if stream.isatty() else 160, soft_wrap=False)
    from .render import PlainConsole
    return PlainConsole(stream)


def _overrides(values: tuple[str, ...]) -> dict[str, Any]:
    from .spec.overrides import parse_override
    result = {}
    for text in values:
        try:
            key, value = parse_override(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
        result[key] = value
    return result


def _remember_root(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    ctx.meta["archspec.extends_root"] = value


# Shared by every command that loads a spec; kept out of the commands' signatures.
_extends_root = click.option(
    "--extends-root", type=click.Path(exists=True, file_okay=False), expose_value=False,
    callback=_remember_root, metavar="DIR",
    help="Let 'extends' read files under DIR (default: the spec's own directory).")


def _remember_limit(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    ctx.meta[f"archspec.{param.name}"] = value


def _limit(name: str) -> int | None:
    """--max-layers / --max-params as given (None: archspec.limits' default)."""
    return click.get_current_context().meta.get(f"archspec.{name}")


_max_layers = click.option(
    "--max-layers", type=click.IntRange(min=1), expose_value=False, callback=_remember_limit,
    metavar="N", help="Allow specs that expand to up to N layers (default 25,000).")
_max_params = click.option(
    "--max-params", type=click.IntRange(min=0), expose_value=False, callback=_remember_limit,
    metavar="N", help="Build models of up to N parameters in memory (default 1,000,000,000).")


def _load(source: str, params: dict[str, Any] | None):
    """SPEC arguments are paths ('-' is standard input), never spec text."""
    from .spec.load import load
    root = click.get_current_context().meta.get("archspec.extends_root")
    return load(source, params, extends_root=root)


def _report_errors(exc: SpecError, as_json: bool, source: str) -> None:
    if as_json:
        import json
        click.echo(json.dumps({"spec": source, "valid": False, "error_count": exc.error_count,
                               "diagnostics": [d.to_dict() for d in exc.diagnostics]}, indent=2))
        return
    from .render import print_diagnostics
    console = _console(stderr=True)
    print_diagnostics(exc.diagnostics, console)
    from .spec.reading import display_name
    shown = display_name(source)
    if not getattr(console, "plain", False):
        from rich.markup import escape
        shown = escape(shown)
    console.print(f"[red]{shown}: {_count(exc)}[/red]")


def _count(exc: SpecError) -> str:
    """"2 errors", or — when only warnings failed the run (--strict) — words that agree with
    the "warning:" lines above."""
    errors = exc.error_count  # shown or not: past the cap they are only counted
    if errors:
        return f"{errors} error{'s' if errors != 1 else ''}"
    warnings = exc.warning_count
    return f"{warnings} warning{'s' if warnings != 1 else ''} (errors under --strict)"


def _write(path: str, data: str | bytes) -> None:
    """Write an output file (text, or bytes as they are); a path that cannot be written is the
    user's to fix (exit 1)."""
    try:
        if isinstance(data, bytes):
            with open(path, "wb") as handle:
                handle.write(data)
        else:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(data)
    except OSError as exc:
        click.echo(f"archspec: cannot write {path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INVALID)
