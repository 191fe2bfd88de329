"""``archspec import``: an existing Keras or PyTorch model → a readable spec (and its weights
for the spec's compiled model). Registered on the main command group by ``archspec.cli``;
thin, like it: parse, call ``archspec.importing.pipeline``, report."""

from __future__ import annotations

import gc
import sys

import click


def _shape(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    try:
        shape = tuple(int(part) for part in value.replace("x", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give sizes separated by commas, e.g. 224,224,3",
                                 param_hint="--input") from None
    if not shape or any(n < 1 for n in shape):
        raise click.BadParameter(f"{value!r}: sizes are positive integers", param_hint="--input")
    return shape


@click.command(name="import")
@click.argument("source")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the spec here (default: standard output).")
@click.option("--weights", metavar="FILE",
              help="Also write the model's weights for the spec's compiled model: FILE.pt "
                   "(torch state_dict) or FILE.weights.h5 (Keras).")
@click.option("--input", "input_shape", callback=_shape, metavar="SIZES",
              help="The input shape without the batch, e.g. 224,224,3 (Keras, channels last) or "
                   "3,224,224 (torch, channels first); needed for torch models and for Keras "
                   "models with open sizes.")
def import_command(source: str, output: str | None, weights: str | None,
                   input_shape: tuple[int, ...] | None) -> None:
    """Turn SOURCE into a spec: a .keras file, keras.applications.<Name> (built untrained), or
    module:callable returning a torch nn.Module (traced with torch.fx). Repeated structure
    becomes blocks and repeats; the layers keep the model's names. Layers archspec cannot
    express are listed together, with where they are, and nothing is written."""
    gc.enable()
    from .cli_common import EXIT_INVALID, EXIT_OK, _report_errors, _write
    from .errors import SpecError
    from .importing.pipeline import import_model, save_weights

    if weights and not weights.endswith((".pt", ".pth", ".weights.h5")):
        raise click.UsageError(f"--weights writes a torch file (.pt) or Keras weights "
                               f"(.weights.h5), not {weights}")
    try:
        imported = import_model(source, input_shape, weights=bool(weights))
    except SpecError as exc:
        _report_errors(exc, False, source)
        sys.exit(EXIT_INVALID)
    except ImportError as exc:
        raise click.UsageError(f"importing {source} needs its framework installed: pip "
                               f"install 'archspec[keras]' or 'archspec[torch]' ({exc})") from None
    except (ValueError, OSError) as exc:
        click.echo(f"archspec: cannot import {source}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    if weights:  # first: a run that cannot write them writes nothing
        try:
            backend = save_weights(imported, weights)
        except ImportError as exc:
            raise click.UsageError(f"writing {weights} needs its framework installed ({exc})"
                                   ) from None
        except (ValueError, OSError, RuntimeError) as exc:
            click.echo(f"archspec: cannot write {weights}: {exc}", err=True)
            sys.exit(EXIT_INVALID)
        click.echo(f"wrote {weights} ({backend})", err=True)
    if output:
        _write(output, imported.text)
    else:
        click.echo(imported.text, nl=False)
    folded = imported.folded
    count = len(folded.document.get("blocks", {}))
    shape = f"{count} block{'s' if count != 1 else ''}" if folded.folded else "flat"
    where = output or "the spec"
    click.echo(f"{where}: {len(imported.flat.layers)} layers, {shape}, "
               f"{len(imported.text.splitlines())} lines", err=True)
    for note in folded.notes:
        click.echo(f"note: {note}", err=True)
    sys.exit(EXIT_OK)
