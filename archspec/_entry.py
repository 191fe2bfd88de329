"""The ``archspec`` console script. A check lives ~0.15 s and allocates a few MB, so the cyclic
garbage collector only costs time there (its passes over pydantic's import-time objects are ~5%
of the run): it is off from before the first import, and the commands that build framework
models (compile, verify, convert) switch it back on. Importing ``archspec.cli`` elsewhere
leaves the collector alone."""

import gc


def main() -> None:
    gc.disable()
    from .cli import main as cli_main
    from .ir.bounds import with_room_to_recurse
    with_room_to_recurse(cli_main)()
