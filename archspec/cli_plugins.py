"""``archspec plugins``: the installed plugin packages, the layer types each brought and the
backends those compile to, and every type refused (a name already taken) and every plugin that
failed to load. Exit 1 when there is any of those problems, so CI can assert a clean load.
Registered on the main command group by ``archspec.cli``."""

from __future__ import annotations

import sys

import click


@click.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json: bool) -> None:
    """List the installed plugins (the `archspec.layers` entry points) and their layer types."""
    from .cli_common import EXIT_INVALID, EXIT_OK
    from .plugins import installed

    state = installed()
    bad = bool(state["refused"] or state["failed"] or any(
        t["problems"] for p in state["plugins"] for t in p["types"].values()))
    if as_json:
        import json
        click.echo(json.dumps(state, indent=2))
        sys.exit(EXIT_INVALID if bad else EXIT_OK)
    if state["disabled"]:
        click.echo("plugins are disabled (ARCHSPEC_DISABLE_PLUGINS is set)")
    if not state["plugins"] and not state["refused"] and not state["failed"]:
        click.echo("no plugins installed (packages add layer types through the "
                   "'archspec.layers' entry point group: docs/plugins.md)")
    for plugin in state["plugins"]:
        where = f" (entry point '{plugin['entry_point']}')" if plugin["entry_point"] else ""
        click.echo(f"{plugin['package']}{where}")
        for name, info in plugin["types"].items():
            click.echo(f"  {name}: {', '.join(info['backends']) or 'no backend'}")
            for problem in info["problems"]:
                click.echo(f"    problem: {problem}")
    for message in state["refused"] + state["failed"]:
        click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_INVALID if bad else EXIT_OK)
