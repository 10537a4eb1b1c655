"""Which torch device a job computes on, chosen inside the process that runs the job.

Why here and so late: CUDA cannot be re-initialised in a child forked from a parent that
touched it, and a prefork worker forks its pool children after start-up. So nothing in
``workers/`` touches CUDA at import or in the parent process: a handler asks for
:func:`select_device` when (and if) it needs tensors, in the pool child.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DevicePreference = Literal["auto", "cpu", "cuda"]


class DeviceUnavailableError(RuntimeError):
    """The configuration asks for a device this process does not have."""


def select_device(preference: DevicePreference) -> torch.device:
    """The device for ``preference`` (``DESIGNLOOP_DEVICE``).

    * ``auto``: CUDA when this process sees a GPU, else the CPU;
    * ``cpu``: the CPU, even on a GPU machine;
    * ``cuda``: the GPU, or :class:`DeviceUnavailableError`: a worker configured for the GPU
      that silently computed on the CPU would run its jobs orders of magnitude slower and
      into their time limits, so the misconfiguration is reported instead.

    Example:
        >>> select_device("cpu")
        device(type='cpu')
    """
    import torch  # imported here: the worker's parent process never needs it

    if preference == "cpu":
        return torch.device("cpu")
    available = torch.cuda.is_available()
    if preference == "cuda" and not available:
        raise DeviceUnavailableError(
            "DESIGNLOOP_DEVICE=cuda but this worker process sees no CUDA device")
    device = torch.device("cuda" if available else "cpu")
    log.debug("device preference %s -> %s", preference, device)
    return device
