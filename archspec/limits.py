"""Every bound archspec puts on its input, in one place.

Work is bounded *before* it is done: a file is read up to the limit plus one byte, a document
stops composing at the first node past the budget, an integer's digits are counted before it
is converted. Each limit below is reported as a located ``SpecError`` naming the limit.
docs/spec-language.md ("Limits") lists them for users. This module imports nothing from
archspec, so every layer may use it.

=======================  ===========  =====================================================
Name                     Value        What it bounds
=======================  ===========  =====================================================
MAX_SPEC_BYTES           5,000,000    bytes of one spec file or of standard input
MAX_YAML_NODES           200,000      values in a document after aliases are expanded
MAX_NESTING_DEPTH        64           nesting of lists and mappings (aliases included)
MAX_INT_DIGITS           64           decimal digits of an integer
MAX_INT_LITERAL_CHARS    256          characters of a number as written (0x, _, 1:30 ...)
MAX_EXTENDS_DEPTH        8            files in one ``extends`` chain below the spec
MAX_EXTENDS_PATH_CHARS   1,024        characters of an ``extends`` path
MAX_SET_CHARS            10,000       characters of one ``--set KEY=VALUE``
MAX_SET_NODES            1,000        values in one ``--set`` value (aliases expanded)
MAX_SET_DEPTH            16           nesting of one ``--set`` value
MAX_LAYERS               25,000       layers a spec expands to (--max-layers, max_layers=)
EXPANSION_STEPS_PER_LAYER 4           items, repeat iterations and block calls visited while
                                      expanding, per allowed layer (raised with MAX_LAYERS)
MAX_CALL_DEPTH           32           nesting of block calls
MAX_DIM                  2**31-1      every input and output dimension of a layer
MAX_ERRORS               50           errors (and warnings) reported; the rest are counted
MAX_SUGGESTION_NAMES     1,000        names a did-you-mean hint compares against
MAX_EXPR_CHARS           500          characters of one ``${...}`` expression
MAX_EXPR_INT_BITS        128          bits of an integer an expression computes
MAX_EXPR_ITEMS           100,000      size of a value an expression computes: characters of a
                                      string, elements of a list or dict, nested ones included
MAX_EXPR_WORK            2,000,000    steps of all expressions of one spec together: one per
                                      operation, plus the size of every value built
MAX_PARAMS               1,000,000,000  parameters of a model built in memory (compile,
                                      verify, convert; --max-params, max_params=)
=======================  ===========  =====================================================
"""

MAX_SPEC_BYTES = 5_000_000
MAX_YAML_NODES = 200_000
MAX_NESTING_DEPTH = 64
MAX_INT_DIGITS = 64
# The literal may spell the digits in binary or with '_' separators; its value is checked
# against MAX_INT_DIGITS after this cheap bound on the text has been passed.
MAX_INT_LITERAL_CHARS = 4 * MAX_INT_DIGITS
MAX_EXTENDS_DEPTH = 8
MAX_EXTENDS_PATH_CHARS = 1_024
MAX_SET_CHARS = 10_000
MAX_SET_NODES = 1_000
MAX_SET_DEPTH = 16

# Expansion, expressions, diagnostics and models (ir/builder.py, expr.py, errors.py, api.py).
# Chosen so that `archspec check` of a spec at any one of them stays under ~2 s and 300 MB on a
# 2-core machine (benchmarks/limits_speed.py measures it); --max-layers raises the first two.
MAX_LAYERS = 25_000
EXPANSION_STEPS_PER_LAYER = 4
MAX_CALL_DEPTH = 32
MAX_DIM = 2**31 - 1
MAX_ERRORS = 50
MAX_SUGGESTION_NAMES = 1_000
MAX_EXPR_CHARS = 500
MAX_EXPR_INT_BITS = 128
MAX_EXPR_ITEMS = 100_000
MAX_EXPR_WORK = 2_000_000
MAX_PARAMS = 1_000_000_000
