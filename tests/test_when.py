"""``when: false`` items: a skipped item is the identity on its input. Its name, and the implicit
input of the item after it, stand for its explicit ``inputs`` if it names one, else for the item
before it. Every position (first, middle, last), with and without ``inputs``, at the top level,
inside blocks, repeats and groups."""

import textwrap

import pytest

import archspec
from archspec import SpecError

HEADER = "name: w\ninput: {shape: [8]}\n"


def graph_of(tmp_path, text, **params):
    path = tmp_path / "spec.yaml"
    path.write_text(HEADER + textwrap.dedent(text))
    return archspec.analyze(path, params or None)


def wiring(graph):
    return {n.name: list(n.inputs) for n in graph.layers}


@pytest.mark.parametrize("inputs", ["", ", inputs: input"])
def test_skipped_first_item_stands_for_the_input(tmp_path, inputs):
    graph = graph_of(tmp_path, f"""
        layers:
          - Dense: {{units: 4, name: a, when: false{inputs}}}
          - Dense: {{units: 3, name: b}}
          - Dense: {{units: 2, name: c, inputs: a}}
          - Concatenate: {{inputs: [b, c], name: out}}
        """)
    assert wiring(graph) == {"b": ["input"], "c": ["input"], "out": ["b", "c"]}


def test_skipped_middle_item_without_inputs_stands_for_the_item_before(tmp_path):
    graph = graph_of(tmp_path, """
        layers:
          - Dense: {units: 4, name: a}
          - Dense: {units: 5, name: b, when: false}
          - Dense: {units: 3, name: c}
          - Concatenate: {inputs: [b, c], name: out}
        """)
    assert wiring(graph) == {"a": ["input"], "c": ["a"], "out": ["a", "c"]}


def test_skipped_middle_item_with_inputs_stands_for_its_input(tmp_path):
    # The course's optional shortcut, written after the main branch.
    graph = graph_of(tmp_path, """
        layers:
          - Dense: {units: 8, name: main}
          - Dense: {units: 8, name: shortcut, inputs: input, when: false}
          - Add: {inputs: [shortcut, main], name: add}
        """)
    assert wiring(graph) == {"main": ["input"], "add": ["input", "main"]}


def test_item_after_a_skipped_item_with_inputs_reads_that_input(tmp_path):
    graph = graph_of(tmp_path, """
        layers:
          - Dense: {units: 4, name: a}
          - Dropout: {rate: 0.5, name: drop, inputs: input, when: false}
          - Dense: {units: 3, name: c}
          - Concatenate: {inputs: [a, c], name: out}
        """)
    assert wiring(graph)["c"] == ["input"]


@pytest.mark.parametrize("inputs, output", [("", "a"), (", inputs: input", "input")])
def test_skipped_last_item_makes_its_stand_in_the_output(tmp_path, inputs, output):
    graph = graph_of(tmp_path, f"""
        layers:
          - Dense: {{units: 4, name: a}}
          - Dense: {{units: 3, name: b, when: false{inputs}}}
        """)
    assert graph.output == output


def test_skipped_merge_is_left_out_and_the_flow_goes_on_from_the_item_before(tmp_path):
    # MobileNetV2's optional residual: an Add of the block input and the projection, last.
    graph = graph_of(tmp_path, """
        layers:
          - Dense: {units: 8, name: a}
          - Dense: {units: 8, name: b}
          - Add: {inputs: [a, b], name: res, when: false}
          - Dense: {units: 3, name: c}
        """)
    assert wiring(graph)["c"] == ["b"]


def test_naming_a_skipped_merge_is_a_located_error(tmp_path):
    with pytest.raises(SpecError) as info:
        graph_of(tmp_path, """
            layers:
              - Dense: {units: 4, name: a}
              - Add: {inputs: [a, input], name: b, when: false}
              - Dense: {units: 3, inputs: b}
            """)
    (error,) = info.value.diagnostics
    assert "'b' is left out (when: false) and names several inputs" in error.message
    assert error.path == "layers[2].inputs"
    assert (error.location.line, error.location.column) == (7, 23)  # its inputs key
    assert "name one of its inputs" in error.hint


def test_mobilenet_v2_keeps_its_residuals_where_the_shapes_allow(spec_dir):
    graph = archspec.analyze(spec_dir / "mobilenet_v2.yaml")
    adds = [n for n in graph.layers if n.type == "Add"]
    assert len(adds) == 10  # torchvision: 10 of the 17 inverted residual blocks add their input
    assert all(len(set(n.inputs)) == 2 for n in adds)


def test_skipped_item_with_an_unknown_input_is_reported_once(tmp_path):
    with pytest.raises(SpecError) as info:
        graph_of(tmp_path, """
            layers:
              - Dense: {units: 4, name: a, inputs: nope, when: false}
              - Dense: {units: 3, name: b, inputs: a}
            """)
    (error,) = info.value.diagnostics
    assert "unknown layer 'nope'" in error.message


BLOCK = """
    blocks:
      residual:
        params: [units, {project: false}]
        layers:
          - Dense: {units: "${units}", name: main}
          - Dense: {units: "${units}", name: shortcut, inputs: input, when: "${project}"}
          - Add: {inputs: [shortcut, main]}
    layers:
      - Dense: {units: 8, name: stem}
      - residual: {units: 8, name: r1}
      - residual: {units: 4, project: true, name: r2}
    """


def test_optional_shortcut_in_a_block_adds_the_block_input(tmp_path):
    graph = graph_of(tmp_path, BLOCK)
    adds = {n.name: n.inputs for n in graph.layers if n.type == "Add"}
    assert adds == {"r1_add_1": ["stem", "r1_main"], "r2_add_1": ["r2_shortcut", "r2_main"]}


def test_skipped_first_item_of_a_block_stands_for_the_block_input(tmp_path):
    graph = graph_of(tmp_path, """
        blocks:
          maybe_norm:
            params: [{norm: false}]
            layers:
              - BatchNormalization: {name: bn, when: "${norm}"}
              - Dense: {units: 4, name: fc}
              - Concatenate: {inputs: [bn, fc], name: cat}
        layers:
          - Dense: {units: 8, name: stem}
          - maybe_norm: {name: m}
        """)
    assert wiring(graph) == {"stem": ["input"], "m_fc": ["stem"], "m_cat": ["stem", "m_fc"]}


def test_skipped_items_in_repeats_depend_on_the_iteration(tmp_path):
    graph = graph_of(tmp_path, """
        layers:
          - Dense: {units: 8, name: stem}
          - repeat:
              times: 3
              name: it
              layers:
                - Dense: {units: 8, name: body}
                - Dense: {units: 8, name: skip, inputs: body, when: "${i > 0}"}
                - Add: {inputs: [skip, body], name: add}
        """)
    adds = {n.name: n.inputs for n in graph.layers if n.type == "Add"}
    assert adds == {"it0_add": ["it0_body", "it0_body"],
                    "it1_add": ["it1_skip", "it1_body"],
                    "it2_add": ["it2_skip", "it2_body"]}


def test_skipped_block_call_and_repeat_are_the_identity(tmp_path):
    graph = graph_of(tmp_path, BLOCK.replace("name: r2}", "name: r2, when: false}") + """
      - repeat: {times: 2, when: false, layers: [Dense: {units: 3}]}
      - Dense: {units: 2, name: head}
    """)
    assert wiring(graph)["head"] == ["r1_add_1"]


def test_skipped_item_in_a_group_stands_for_its_input(tmp_path):
    graph = graph_of(tmp_path, """
        layers:
          - Dense: {units: 8, name: a}
          - group:
              layers:
                - Dense: {units: 8, name: b}
                - Dense: {units: 8, name: s, inputs: a, when: false}
                - Add: {inputs: [s, b], name: add}
        """)
    assert wiring(graph)["add"] == ["a", "b"]


def test_when_parameter_from_set_switches_the_wiring(tmp_path):
    text = """
        params: {project: false}
        layers:
          - Dense: {units: 8, name: main}
          - Dense: {units: 8, name: shortcut, inputs: input, when: "${project}"}
          - Add: {inputs: [shortcut, main], name: add}
        """
    assert wiring(graph_of(tmp_path, text))["add"] == ["input", "main"]
    assert wiring(graph_of(tmp_path, text, project=True))["add"] == ["shortcut", "main"]


def test_course_resnet_adds_the_block_input(spec_dir):
    graph = archspec.analyze(spec_dir / "resnet_course.yaml")
    adds = [n.inputs for n in graph.layers if n.type == "Add"]
    assert adds[0] == ["max_pooling2d_1", "residual_block1_main"]
    assert adds[2] == ["residual_block3_shortcut", "residual_block3_main"]
    assert all(a != b for a, b in adds)
