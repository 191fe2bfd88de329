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

from .cli_common import (  # noqa: E402, F401 - re-exported: the command modules' shared parts
    EXIT_OK,
    EXIT_INVALID,
    EXIT_USAGE,
    EXIT_BROKEN_PIPE,
    _console,
    _overrides,
    _extends_root,
    _limit,
    _max_layers,
    _max_params,
    _load,
    _report_errors,
    _write,
)


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
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "html"]),
              default="table", show_default=True,
              help="json is --json; markdown and html are documents with every layer (html: "
                   "one self-contained page, with the diagram).")
@_extends_root
@_max_layers
def check(specs: tuple[str, ...], as_json: bool, sets: tuple[str, ...], strict: bool,
          show_all: bool, fmt: str) -> None:
    """Validate SPECS (files, or - for stdin) and show every layer's shape and costs."""
    from .api import check as check_spec

    if as_json and fmt not in ("table", "json"):
        raise click.UsageError(f"--json and --format {fmt} are two different outputs")
    as_json = as_json or fmt == "json"
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
        elif fmt in ("markdown", "html"):
            outputs.append(report)
        else:
            report.render(_console(), max_rows=None if show_all else 200)
    if fmt in ("markdown", "html") and outputs:
        from .reports import document
        click.echo(document(outputs, fmt), nl=False)
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
@click.option("--onnx", "with_onnx", is_flag=True,
              help="Also export SPEC to ONNX and compare onnxruntime's output of every layer "
                   "with the torch model's, same weights (needs archspec[onnx]).")
@_extends_root
@_max_layers
@_max_params
def verify(spec: str, sets: tuple[str, ...], batch: int, seed: int,
           reference: str | None, with_onnx: bool) -> None:
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
        if with_onnx:
            from .cli_export import onnx_support
            onnx_support(graph)
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
    passed = report.passed
    if with_onnx:
        from .cli_export import verify_onnx_line
        passed = verify_onnx_line(graph, batch, seed, console) and passed
    sys.exit(EXIT_OK if passed else EXIT_INVALID)


@main.command()
@click.argument("spec")
@click.option("--from", "source", nargs=2, required=True, metavar="FRAMEWORK FILE",
              help="Where the weights come from: 'keras model.weights.h5' or 'torch model.pt'.")
@click.option("--to", "target", nargs=2, required=True, metavar="FRAMEWORK FILE",
              help="Where to write them: 'torch model.pt', 'keras model.weights.h5', or "
                   "'onnx model.onnx' (the whole model, with these weights).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable).")
@_extends_root
@_max_layers
@_max_params
def convert(spec: str, source: tuple[str, str], target: tuple[str, str],
            sets: tuple[str, ...]) -> None:
    """Convert saved weights of SPEC's model between Keras and PyTorch, or into an ONNX model
    (`--to onnx`: as `archspec export --weights`)."""
    gc.enable()
    from .api import analyze, build, check_model_size
    from .weights import load_file, save_file, transfer_weights

    if target[0] == "onnx" and source[0] in ("torch", "keras"):
        from .cli_export import export_command
        click.get_current_context().invoke(export_command, spec=spec, output=target[1],
                                           weights=source[1], sets=sets)
        return
    for framework, _ in (source, target):
        if framework not in ("torch", "keras"):
            raise click.UsageError(f"framework must be 'torch' or 'keras' (or, as the target, "
                                   f"'onnx'), got {framework!r}")
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


# Commands with modules of their own: each imports only click at first, the rest when it runs.
from .cli_diagram import diagram_command  # noqa: E402
from .cli_diff import diff_command  # noqa: E402
from .cli_export import export_command  # noqa: E402
from .cli_import import import_command  # noqa: E402
from .cli_plugins import plugins_command  # noqa: E402

for _command in (import_command, export_command, diff_command, diagram_command, plugins_command):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    from .ir.bounds import with_room_to_recurse
    with_room_to_recurse(main)()
