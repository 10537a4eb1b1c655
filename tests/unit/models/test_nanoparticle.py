"""The nanoparticle in-silico lab: a torch-free spec, documented truths checked by their
properties (dose saturation, charge x PEG interaction, gradients), a reference optimum that
nothing beats and that sits on the safety boundary, seeded noise of the documented size, and
its design picture."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import torch

from models.gradcheck import check_gradient
from models.problems.base import DesignError, ProblemError
from models.problems.nanoparticle import COMPLEMENT_THRESHOLD, SPEC
from models.problems.nanoparticle.options import validate
from models.problems.nanoparticle.plot import design_plot
from models.problems.nanoparticle.problem import (
    FEATURES,
    NOISE_SD,
    NanoparticleProblem,
    complement_activation,
    dense_search,
    from_unit,
    t_cell_activation,
    to_unit,
    truth,
)
from models.space.space import Space

torch.set_num_threads(1)

DESIGN = {"particle_size": 90.0, "zeta_potential": 0.0, "peg_fraction": 0.03,
          "ligand_density": 0.8, "dose": 1.0, "ionizable_lipid": 0.5, "phospholipid": 0.12,
          "cholesterol": 0.38}


def _row(**changes: float) -> torch.Tensor:
    design = {**DESIGN, **changes}
    return torch.tensor([[design[name] for name in FEATURES]], dtype=torch.float64)


def test_spec_is_torch_free_and_describes_the_problem() -> None:
    code = ("import sys; import models.problems.nanoparticle as m; "
            "import models.problems.nanoparticle.options; "
            "assert 'torch' not in sys.modules, 'torch imported'; print(m.SPEC.key)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "nanoparticle"
    space = Space.from_dict(SPEC.default_space)
    assert space.names == list(FEATURES)
    assert SPEC.default_objectives == [{"name": "t_cell_activation", "goal": "maximize",
                                        "unit": "%"}]
    assert SPEC.default_constraints[0]["threshold"] == COMPLEMENT_THRESHOLD
    assert tuple(SPEC.strategies or ()) == ("space_filling", "bayesian")
    module, _, attr = (SPEC.implementation or "").partition(":")
    assert getattr(importlib.import_module(module), attr) is NanoparticleProblem
    module, _, attr = (SPEC.options_validator or "").partition(":")
    assert getattr(importlib.import_module(module), attr) is validate


def test_options_fill_defaults_and_refuse_bad_values() -> None:
    assert validate({}) == {"noise_scale": 1.0, "seed": 0}
    assert NanoparticleProblem.from_options({"seed": 3}).seed == 3
    for bad in ({"noise": 1}, {"noise_scale": -1}, {"noise_scale": float("nan")},
                {"seed": 1.5}, {"seed": True}):
        with pytest.raises(ProblemError):
            validate(bad)


def test_dose_saturates_efficacy_but_not_complement() -> None:
    t_high, t_mid = t_cell_activation(_row(dose=5.0)), t_cell_activation(_row(dose=2.5))
    c_high, c_mid = complement_activation(_row(dose=5.0)), complement_activation(_row(dose=2.5))
    gain_t, gain_c = float(t_high / t_mid) - 1, float(c_high / c_mid) - 1
    assert gain_t < 0.05                    # saturated: doubling the dose adds < 5 %
    assert gain_c > 0.1 and gain_c > 3 * gain_t   # complement keeps rising
    low = t_cell_activation(_row(dose=0.05))
    assert float(low / t_high) < 0.05       # but the bottom of the range is far below


def test_peg_shields_the_complement_activation_of_a_cationic_surface() -> None:
    def charge_effect(peg: float) -> float:
        return float(complement_activation(_row(zeta_potential=30.0, peg_fraction=peg))
                     - complement_activation(_row(zeta_potential=-30.0, peg_fraction=peg)))
    assert charge_effect(0.0) > 0.3
    assert charge_effect(0.1) < 0.01 * charge_effect(0.0)   # an interaction, not additive


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_truth_gradients_match_central_differences(seed: int) -> None:
    u = torch.rand(1, 7, dtype=torch.float64,
                   generator=torch.Generator().manual_seed(seed)) * 0.8 + 0.1
    x = from_unit(u)[0]
    check_gradient(lambda v: truth(v.unsqueeze(0))[0], x, rtol=1e-6).raise_if_failed()


def test_reference_optimum_is_safe_on_the_boundary_and_unbeaten() -> None:
    best = NanoparticleProblem.reference_optimum()
    lab = NanoparticleProblem(noise_scale=0.0)
    x = lab.design_tensor([best.design])
    assert best.complement == pytest.approx(COMPLEMENT_THRESHOLD, abs=1e-6)
    assert float(t_cell_activation(x)) == pytest.approx(best.value, rel=1e-12)
    # an independent sample: no safe design beats it, and the unconstrained best is unsafe
    u = torch.rand(2**15, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    Y = truth(from_unit(u))
    safe = Y[:, 1] <= COMPLEMENT_THRESHOLD
    assert float(Y[safe, 0].max()) < best.value
    assert float(Y[:, 0].max()) > best.value and not bool(safe[Y[:, 0].argmax()])
    # local optimality: small safe moves around it do not improve
    steps = (torch.rand(512, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
             - 0.5) * 0.02
    around = from_unit((_unit_of(best.design) + steps).clamp(0, 1))
    Y = truth(around)
    assert float(Y[Y[:, 1] <= COMPLEMENT_THRESHOLD, 0].max()) <= best.value + 1e-6


def _unit_of(design: dict[str, float]) -> torch.Tensor:
    """The search coordinates of one design."""
    x = torch.tensor([[design[name] for name in FEATURES]], dtype=torch.float64)
    return to_unit(x)[0]


def test_to_unit_inverts_from_unit() -> None:
    u = torch.rand(256, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(to_unit(from_unit(u)), u, atol=1e-12)


@pytest.mark.slow
def test_a_denser_search_finds_the_same_optimum() -> None:
    assert dense_search(2**17, 32).value == pytest.approx(dense_search().value, abs=1e-6)


def test_noise_is_seeded_and_of_the_documented_size() -> None:
    designs = [DESIGN] * 4000
    first = NanoparticleProblem(seed=5).evaluate(designs)
    assert first == NanoparticleProblem(seed=5).evaluate(designs)
    assert first != NanoparticleProblem(seed=6).evaluate(designs)
    exact = NanoparticleProblem(noise_scale=0.0).evaluate([DESIGN])[0]
    for name, sd in NOISE_SD.items():
        values = torch.tensor([row[name] for row in first], dtype=torch.float64)
        assert float(values.std()) == pytest.approx(sd, rel=0.06)
        assert float(values.mean()) == pytest.approx(exact[name], abs=4 * sd / 4000**0.5)
    double = NanoparticleProblem(noise_scale=2.0, seed=5).evaluate(designs)
    spread = torch.tensor([r["complement_activation"] for r in double]).std()
    assert float(spread) == pytest.approx(2 * NOISE_SD["complement_activation"], rel=0.06)


@pytest.mark.parametrize("change, message", [
    ({"dose": 9.0}, "outside"), ({"cholesterol": 0.5}, "sum to 1"),
    ({"zeta_potential": "high"}, "number")])
def test_bad_designs_are_refused(change: dict, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        NanoparticleProblem().evaluate([{**DESIGN, **change}])
    missing = dict(DESIGN)
    del missing["dose"]
    with pytest.raises(DesignError, match="lacks"):
        NanoparticleProblem().evaluate([missing])


def test_design_plot_is_a_png() -> None:
    png = design_plot(NanoparticleProblem(), DESIGN)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    with pytest.raises(DesignError):
        design_plot(NanoparticleProblem(), {**DESIGN, "dose": -1.0})
