"""models.numerics: a BO suggestion is the same to the last bit on processors with different
instruction sets (simulated by restricting MKL's to AVX2), because importing ``models`` pins
MKL's code path; an explicit choice in the environment is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from models.numerics import MKL_CODE_PATH, MKL_ENV, numerics, pin_mkl_code_path

ROOT = Path(__file__).resolve().parents[3]

#: One constrained-BO suggestion on a small Hartmann3 campaign, printed to the last bit. Without
#: the pin, an AVX-512 machine's automatic path and its AVX2 path gave second designs that
#: differed in the second decimal.
SUGGEST = """
import json
import torch
torch.set_num_threads(1)
from botorch.test_functions import Hartmann
from models.bo.suggest import suggest
from models.space.space import Space
f = Hartmann(dim=3)
space = Space.from_dict({"parameters": [
    {"type": "continuous", "name": f"x{i}", "lower": 0.0, "upper": 1.0} for i in range(3)]})
X = torch.rand(10, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
observations = [{"parameters": {f"x{i}": float(x[i]) for i in range(3)},
                 "outcomes": {"y": float(f(x.unsqueeze(0))), "c": float(x.sum())}} for x in X]
result = suggest(space, observations, [], [{"name": "y", "goal": "minimize"}],
                 [{"name": "c", "op": "<=", "threshold": 1.5}], q=2, seed=0)
print(json.dumps({"designs": [s.parameters for s in result.suggestions],
                  "values": [s.acquisition_value for s in result.suggestions]}))
"""


def _suggest_with(instructions: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in (MKL_ENV, "MKL_ENABLE_INSTRUCTIONS")}
    if instructions is not None:
        env["MKL_ENABLE_INSTRUCTIONS"] = instructions
    done = subprocess.run([sys.executable, "-c", SUGGEST], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_suggestion_is_the_same_on_every_processor_with_avx2() -> None:
    """On a processor with AVX-512 the pinned process runs the AVX2 path, as one without it
    does (on one with AVX2 only, this holds trivially)."""
    assert _suggest_with("AVX2") == _suggest_with(None)


def test_the_pin_keeps_an_explicit_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MKL_ENV, raising=False)
    assert pin_mkl_code_path() == MKL_CODE_PATH == os.environ[MKL_ENV]
    monkeypatch.setenv(MKL_ENV, "AUTO")
    assert pin_mkl_code_path() == "AUTO"


def test_numerics_records_what_a_replay_depends_on() -> None:
    record = numerics()
    assert record["torch"] == torch.__version__
    assert record["torch_threads"] == torch.get_num_threads()
    assert record["mkl_cbwr"] == os.environ.get(MKL_ENV)
