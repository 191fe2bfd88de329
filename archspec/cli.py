"""The ``archspec`` command. Thin: parse arguments, call the API, format the result.

Exit codes: 0 valid; 1 invalid input — an invalid spec, a spec or weights file that cannot
be read, an output that cannot be written, a failed verification, warnings under --strict;
2 usage (unknown command or option, bad option value, missing framework) or internal error;
141 (as cat) when the reader of its output goes away early. README.md lists them too.
A user error never prints a traceback; set ARCHSPEC_DEBUG=1 to see one for internal errors.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

# A command-line run needs no pydantic plugins, and discovering them costs a scan of every
# installed package's metadata (~17 ms of a ~150 ms budget). Set before pydantic loads.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
# TensorFlow's C++ start-up chatter would bury compile/verify/convert output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import click  # noqa: E402

from .errors import SpecError  # noqa: E402

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


def _write(path: str, text: str) -> None:
    """Write an output file; a path that cannot be written is the user's to fix (exit 1)."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        click.echo(f"archspec: cannot write {path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INVALID)


class _Group(click.Group):
    """Turns unexpected exceptions into exit code 2 and a one-line message."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            sys.exit(130)
        except BrokenPipeError:
            # `archspec check big.yaml | head`: the reader left; end as cat does on SIGPIPE,
            # silently, and keep the interpreter's final flush from complaining again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for users
            if os.environ.get("ARCHSPEC_DEBUG"):
                raise
            click.echo(f"archspec: internal error: {type(exc).__name__}: {exc}\n"
                       f"(set ARCHSPEC_DEBUG=1 for a traceback and please report it)", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archspec")
def main() -> None:
    """Describe a neural network once; check it, and compile it to PyTorch or Keras."""


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a stable JSON object per spec.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable), e.g. --set depth=101.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--all", "show_all", is_flag=True, help="Show every layer of long models.")
@_extends_root
@_max_layers
def check(specs: tuple[str, ...], as_json: bool, sets: tuple[str, ...], strict: bool,
          show_all: bool) -> None:
    """Validate SPECS (files, or - for stdin) and show every layer's shape and costs."""
    from .api import check as check_spec

    overrides = _overrides(sets)
    status, outputs = EXIT_OK, []
    for source in specs:
        try:
            report = check_spec(_load(source, overrides or None), strict=strict,
                                max_layers=_limit("max_layers"))
        except SpecError as exc:
            status = EXIT_INVALID
            _report_errors(exc, as_json, source)
            continue
        if as_json:
            outputs.append(report.to_dict())
        else:
            report.render(_console(), max_rows=None if show_all else 200)
    if as_json and outputs:
        import json
        click.echo(json.dumps(outputs[0] if len(specs) == 1 else outputs, indent=2))
    sys.exit(status)


@main.command(name="compile")
@click.argument("spec")
@click.option("--backend", "-b", type=click.Choice(["torch", "keras"]), required=True,
              help="The framework to generate code for.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the source here (default: standard output).")
@click.option("--save", type=click.Path(dir_okay=False, writable=True),
              help="Keras only: also build the model and save it (e.g. model.keras).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable).")
@click.option("--logits", is_flag=True,
              help="Leave out the final softmax (or sigmoid): the model returns logits, for "
                   "torch's CrossEntropyLoss or Keras' from_logits=True losses.")
@_extends_root
@_max_layers
@_max_params
def compile_command(spec: str, backend: str, output: str | None, save: str | None,
                    sets: tuple[str, ...], logits: bool) -> None:
    """Generate readable, standalone model source from SPEC. The file imports only the
    framework; the same spec always gives the same bytes."""
    gc.enable()
    from .api import analyze, check_model_size
    from .backends import backend_module

    if save and backend != "keras":
        raise click.UsageError("--save is for the keras backend (torch models: state_dict)")
    if save and not save.endswith(".keras"):
        raise click.UsageError(f"--save writes Keras' native format: name it *.keras, not {save}")
    module = backend_module(backend)
    try:
        graph = analyze(_load(spec, _overrides(sets) or None), logits=logits,
                        max_layers=_limit("max_layers"))
        if save:  # building allocates every parameter; the source alone costs nothing
            check_model_size(graph, _limit("max_params"))
        source = module.generate(graph)
    except SpecError as exc:
        _report_errors(exc, False, spec)
        sys.exit(EXIT_INVALID)
    if output:
        _write(output, source)
        click.echo(f"wrote {output} ({backend}, {len(graph.live())} layers)", err=True)
    else:
        click.echo(source, nl=False)
    if save:
        try:
            model = module.build(source, graph)
        except ImportError as exc:
            raise click.UsageError(f"--save needs the keras backend installed: "
                                   f"pip install 'archspec[keras]' ({exc})") from None
        try:
            model.save(save)
        except OSError as exc:
            click.echo(f"archspec: cannot write {save}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_INVALID)
        click.echo(f"saved {save}", err=True)


@main.command()
@click.argument("spec")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable).")
@click.option("--batch", default=2, show_default=True, help="Random batch size.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random batch.")
@click.option("--reference", metavar="NAME",
              help="Also compare with the model SPEC reproduces, untrained: "
                   "keras.applications.<Name> or torchvision.models.<name>.")
@_extends_root
@_max_layers
@_max_params
def verify(spec: str, sets: tuple[str, ...], batch: int, seed: int,
           reference: str | None) -> None:
    """Check SPEC end to end: analysis vs the torch and Keras models layer by layer (shapes,
    parameters), then move Keras' weights into torch and compare every layer's activations on
    one random batch. With --reference, both models take the reference's weights instead and
    every layer with weights is compared with the reference's. Exit 1 on any mismatch."""
    gc.enable()
    from .api import analyze, check_model_size
    from .verification import verify as run_verify

    try:
        graph = analyze(_load(spec, _overrides(sets) or None), max_layers=_limit("max_layers"))
        check_model_size(graph, _limit("max_params"))
    except SpecError as exc:
        _report_errors(exc, False, spec)
        sys.exit(EXIT_INVALID)
    from .verification import installed
    if not (installed("torch") or installed("keras")):
        raise click.UsageError("verify needs a backend: pip install 'archspec[torch,keras]'")
    console = _console(rich=True)
    from .reference import UnknownReference, resolve_reference
    try:
        if reference is not None:
            resolve_reference(reference)
        with console.status("starting") as status:
            report = run_verify(graph, batch=batch, seed=seed, reference=reference,
                                step=lambda text: status.update(f"{spec}: {text}"),
                                max_params=_limit("max_params"))
    except UnknownReference as exc:
        raise click.UsageError(str(exc)) from None
    from .render import render_reference, render_verify
    render_verify(report, graph, console)
    if report.reference is not None:
        render_reference(report.reference, console)
    sys.exit(EXIT_OK if report.passed else EXIT_INVALID)


@main.command()
@click.argument("spec")
@click.option("--from", "source", nargs=2, required=True, metavar="FRAMEWORK FILE",
              help="Where the weights come from: 'keras model.weights.h5' or 'torch model.pt'.")
@click.option("--to", "target", nargs=2, required=True, metavar="FRAMEWORK FILE",
              help="Where to write them: 'torch model.pt' or 'keras model.weights.h5'.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable).")
@_extends_root
@_max_layers
@_max_params
def convert(spec: str, source: tuple[str, str], target: tuple[str, str],
            sets: tuple[str, ...]) -> None:
    """Convert saved weights of SPEC's model between Keras and PyTorch."""
    gc.enable()
    from .api import analyze, build, check_model_size
    from .weights import load_file, save_file, transfer_weights

    for framework, _ in (source, target):
        if framework not in ("torch", "keras"):
            raise click.UsageError(f"framework must be 'torch' or 'keras', got {framework!r}")
    limit = _limit("max_params")
    try:
        graph = analyze(_load(spec, _overrides(sets) or None), max_layers=_limit("max_layers"))
        check_model_size(graph, limit)
    except SpecError as exc:
        _report_errors(exc, False, spec)
        sys.exit(EXIT_INVALID)
    try:
        src = build(graph, source[0], max_params=limit)
        dst = build(graph, target[0], max_params=limit)
    except ImportError as exc:
        raise click.UsageError(f"converting needs both frameworks installed: "
                               f"pip install 'archspec[torch,keras]' ({exc})") from None
    try:
        load_file(src, source[1])
        transfer_weights(src, dst, graph)
        save_file(dst, target[1])
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        click.echo(f"archspec: cannot convert: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"wrote {target[1]} ({target[0]}) from {source[1]} ({source[0]})", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the spec language (for editor autocompletion)."""
    import json

    from .schema import spec_schema
    click.echo(json.dumps(spec_schema(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    from .ir.bounds import with_room_to_recurse
    with_room_to_recurse(main)()
