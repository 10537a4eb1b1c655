"""Physics tests share two cores with other engineers' timing-sensitive tests: one thread."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
