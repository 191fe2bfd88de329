"""``archspec export``: a spec straight to ONNX, without building the model in a framework
(weights are drawn from a seed, or read from a weight file, which needs its framework).
Registered on the main command group by ``archspec.cli``."""

from __future__ import annotations

import gc
import sys

import click

from .cli_common import _extends_root, _max_layers, _max_params

def _weights_from(path: str, graph):
    """The exchange (Keras layout) from a weight file, read by the framework that wrote it."""
    from .backends import build
    from .weights import get_weights, load_file

    framework = "torch" if path.endswith((".pt", ".pth")) else "keras"
    if not path.endswith((".pt", ".pth", ".weights.h5", ".keras")):
        raise click.UsageError(f"--weights reads a torch file (.pt) or Keras weights "
                               f"(.weights.h5, .keras), not {path}")
    try:
        model = build(graph, framework)
    except ImportError as exc:
        raise click.UsageError(f"reading {path} needs {framework}: pip install "
                               f"'archspec[{framework}]' ({exc})") from None
    load_file(model, path)
    return get_weights(model, graph)


@click.command(name="export")
@click.argument("spec")
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True,
              help="The file format.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Write the model here, e.g. model.onnx.")
@click.option("--weights", metavar="FILE",
              help="Take the weights from FILE (.pt, .weights.h5 or .keras, as `convert` "
                   "reads them); without it they are drawn as the backends would, from --seed.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the drawn weights.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a spec parameter (repeatable).")
@click.option("--logits", is_flag=True, help="Leave out the final softmax (or sigmoid).")
@_extends_root
@_max_layers
@_max_params
def export_command(spec: str, fmt: str, output: str, weights: str | None, seed: int,
                   sets: tuple[str, ...], logits: bool) -> None:
    """Write SPEC's model as ONNX: input and output in the spec's layout, a symbolic batch,
    every layer's output named after the layer, the spec's name in the metadata."""
    gc.enable()
    from .api import analyze, check_model_size
    from .cli_common import EXIT_INVALID, _limit, _load, _overrides, _report_errors
    from .errors import SpecError

    try:
        from .onnx_export import OPSET, save_onnx
        import onnx  # noqa: F401 - only to say what is missing before any work
    except ImportError as exc:
        raise click.UsageError(f"export needs the onnx package: pip install 'archspec[onnx]' "
                               f"({exc})") from None
    try:
        graph = analyze(_load(spec, _overrides(sets) or None), logits=logits,
                        max_layers=_limit("max_layers"))
        check_model_size(graph, _limit("max_params"))
        exchange = _weights_from(weights, graph) if weights else None
    except SpecError as exc:
        _report_errors(exc, False, spec)
        sys.exit(EXIT_INVALID)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        click.echo(f"archspec: cannot read weights from {weights}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    try:
        where = save_onnx(graph, output, exchange, seed=seed)
        where = f", weights in {where}" if where else ""
    except SpecError as exc:  # a layer with no ONNX form
        _report_errors(exc, False, spec)
        sys.exit(EXIT_INVALID)
    except OSError as exc:
        click.echo(f"archspec: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"wrote {output} ({fmt}, opset {OPSET}, {len(graph.live()) - 1} layers{where})",
               err=True)


def onnx_support(graph) -> None:
    """Before ``verify --onnx`` runs anything: the packages are there (else exit 2) and every
    layer has an ONNX form (else UnsupportedError, every such layer located)."""
    try:
        from .onnx_export import check_support
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise click.UsageError(f"--onnx needs onnx and onnxruntime: pip install "
                               f"'archspec[onnx]' ({exc})") from None
    check_support(graph)


def verify_onnx_line(graph, batch: int, seed: int, console) -> bool:
    """``verify --onnx``: one line, as ``--reference`` prints, and whether it passed."""
    from .onnx_export.verify import verify_onnx
    report = verify_onnx(graph, batch=batch, seed=seed)
    first = report.first_difference()
    if report.error is not None:
        console.print(f"[red]FAIL[/red] onnx: {report.error}", soft_wrap=True)
    elif first is not None:
        console.print(f"[red]FAIL[/red] onnx: parts from torch at layer '{first.name}': "
                      f"max |diff| {first.max_diff:.3g}", soft_wrap=True)
    else:
        worst = max((layer.max_diff for layer in report.layers), default=0.0)
        console.print(f"[green]onnx: all {len(report.layers)} layers agree with torch[/green] "
                      f"(onnxruntime, max |diff| {worst:.1e})", soft_wrap=True)
    return report.passed
