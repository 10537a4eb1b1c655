"""The ``sequence`` problem plug-in: torch-free options, exact outcomes, clear errors, the plot."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from models.problems.base import DesignError, ProblemError
from models.problems.sequence import SPEC, default_space, validate_options
from models.problems.sequence.options import CONFORMATION_COUNTS
from models.problems.sequence.plot import design_plot
from models.problems.sequence.problem import SequenceProblem
from models.sequence.conformations import compact_conformations
from models.space.space import SequenceParameter, Space


def test_the_spec_and_its_default_space() -> None:
    assert SPEC.key == "sequence" and SPEC.has_simulator
    assert SPEC.strategies == ("space_filling", "sequence_design")
    assert SPEC.default_space == {"parameters": [
        {"type": "sequence", "name": "sequence", "alphabet": "HP", "length": 16}]}
    space = default_space(validate_options({"rows": 5, "alphabet": "MJ"}))
    parameter = Space.from_dict(space).parameters[0]
    assert isinstance(parameter, SequenceParameter) and parameter.length == 25
    assert space["parameters"][0]["alphabet"] == "ACDEFGHIKLMNPQRSTVWY"


def test_the_spec_and_validator_import_no_torch() -> None:
    code = ("import sys; from models.problems.sequence import SPEC, validate_options; "
            "validate_options({'rows': 6, 'target': {'index': 57336}}); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("rows", "cols"), [(2, 5), (3, 4), (4, 4), (3, 7), (4, 5), (5, 5)])
def test_conformation_counts_match_the_enumeration(rows: int, cols: int) -> None:
    assert CONFORMATION_COUNTS[(rows, cols)] == len(compact_conformations(rows, cols,
                                                                          use_cache=False))


def test_defaults_are_filled_in() -> None:
    assert validate_options({}) == {"rows": 4, "cols": 4, "alphabet": "hp",
                                    "target": {"index": 0}, "restraints": [],
                                    "predictor": "boltzmann", "temperature": 0.3}


@pytest.mark.parametrize(("options", "key"), [
    ({"target": {"path": [0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 10, 11, 15, 14, 12, 13]}},
     "target.path"),                                       # not a valid conformation
    ({"target": {"path": list(range(12))}}, "target.path"),  # wrong length
    ({"target": {"contact_map": [[0] * 15] * 15}}, "target.contact_map"),  # wrong length
    ({"target": {"contacts": [[0, 2]]}}, "target.contacts"),
    ({"target": 69}, "target.index"),
    ({"target": {"shape": 1}}, "target"),
    ({"alphabet": "XYZ"}, "alphabet"),
    ({"restraints": [{"type": "letter", "position": 0, "letter": "X"}]},
     "restraints[0].letter"),                              # unknown letter
    ({"restraints": [{"type": "contact", "i": 0, "j": 99}]}, "restraints[0].j"),
    ({"rows": 7}, "rows"),
    ({"temperature": 0}, "temperature"),
    ({"colour": "red"}, "colour"),
])
def test_bad_options_name_the_key(options: dict, key: str) -> None:
    with pytest.raises(ProblemError, match=re.escape(f"problem_options.{key}:")):
        validate_options(options)


def test_a_contact_map_of_no_conformation_is_refused_by_the_problem() -> None:
    contacts = compact_conformations(4).contacts
    mixed = contacts[0][:5].tolist() + [p for p in contacts[1].tolist()
                                        if p not in contacts[0][:5].tolist()][:4]
    validate_options({"target": {"contacts": mixed}})  # passes the torch-free checks
    with pytest.raises(ProblemError, match="target.contacts"):
        SequenceProblem.from_options({"target": {"contacts": mixed}})


def test_the_three_target_forms_resolve_to_one_conformation() -> None:
    by_index = SequenceProblem.from_options({"target": 12})
    path = by_index.target.path.tolist()
    contact_map = by_index.target.contact_map.long().tolist()
    assert SequenceProblem.from_options({"target": {"path": path}}).target.index == 12
    assert SequenceProblem.from_options({"target": {"contact_map": contact_map}}).target.index \
        == 12


def test_outcomes_are_exact() -> None:
    problem = SequenceProblem.from_options({"target": 5, "restraints": [
        {"type": "letter", "position": 0, "letter": "P"}]})
    designed, homopolymer = problem.evaluate([{"sequence": "PHHPHHHHHPHPHHPH"},
                                              {"sequence": "P" * 16}])
    assert designed == {"target_gap": 2.0, "success": 1.0, "contact_overlap": 1.0,
                        "energy_gap": 2.0, "degeneracy": 1.0, "restraints_met": 1.0}
    # all-P: every conformation has energy 0, so all 69 tie
    assert homopolymer["success"] == 0.0 and homopolymer["degeneracy"] == 69.0
    assert homopolymer["target_gap"] == 0.0 and homopolymer["energy_gap"] == 0.0


@pytest.mark.parametrize("design", [{"sequence": "PHH"}, {"sequence": "X" * 16},
                                    {"sequence": 5}, {}])
def test_bad_designs_are_design_errors(design: dict) -> None:
    with pytest.raises(DesignError):
        SequenceProblem.from_options({}).evaluate([design])


def test_design_plot_is_a_png() -> None:
    problem = SequenceProblem.from_options({"target": 5})
    png = design_plot(problem, {"sequence": "PHHPHHHHHPHPHHPH"})
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    with pytest.raises(DesignError):
        design_plot(problem, {"sequence": "PH"})
