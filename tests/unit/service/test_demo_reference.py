"""The demo's torch-free reference optima are the ones the problem plug-ins document, and the
demo's CLI options parse (no worker, no database)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from models.problems.branin.problem import BraninProblem
from models.problems.nanoparticle.problem import NanoparticleProblem
from service.cli.demo import REFERENCE_OPTIMA, gap_to_reference
from service.cli.main import _json_object


def test_reference_optima_match_the_plug_ins() -> None:
    assert set(REFERENCE_OPTIMA) == {"branin", "nanoparticle"}
    assert REFERENCE_OPTIMA["branin"][0] == pytest.approx(BraninProblem.optimal_value, rel=1e-12)
    assert REFERENCE_OPTIMA["nanoparticle"][0] == pytest.approx(
        NanoparticleProblem.reference_optimum().value, rel=1e-6)


def test_the_gap_is_positive_while_short_of_the_reference() -> None:
    assert gap_to_reference(40.0, 46.0, "maximize") == pytest.approx(6.0)
    assert gap_to_reference(47.0, 46.0, "maximize") == pytest.approx(-1.0)  # a noisy lucky draw
    assert gap_to_reference(0.5, 0.4, "minimize") == pytest.approx(0.1)


def test_json_options_must_be_an_object() -> None:
    assert _json_object(None, "--options") is None
    assert _json_object('{"members": 3}', "--options") == {"members": 3}
    with pytest.raises(typer.BadParameter):
        _json_object("{members: 3}", "--options")
    with pytest.raises(typer.BadParameter):
        _json_object("[3]", "--options")


def test_the_demo_module_stays_torch_free() -> None:
    """The demo runs in the API process: its module and its reference look-up import no torch."""
    script = (
        "import sys\n"
        "from rich.console import Console\n"
        "import service.cli.main\n"
        "from service.cli.demo import _reference\n"
        "spec = {'objectives': [{'name': 't_cell_activation', 'goal': 'maximize'}]}\n"
        "assert _reference('nanoparticle', spec, Console()) is not None\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reference optimum: t_cell_activation = 45.9782" in done.stdout
