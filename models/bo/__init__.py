r"""Constrained Bayesian optimisation for closed-loop campaigns (BoTorch / GPyTorch).

One entry point, :func:`models.bo.suggest.suggest`: observations in, a batch of designs out,
with their predictions, probabilities of feasibility, acquisition values, the fitted model
state and its quality metrics. The modules, each one concept, in import order:

* :mod:`~models.bo.errors` — the science errors of BO;
* :mod:`~models.bo.problem` — objectives, outcome constraints (with an optional risk level),
  observations;
* :mod:`~models.bo.config` — typed configuration, stored with a job;
* :mod:`~models.bo.encoding` — designs <-> model features (mixed, constrained);
* :mod:`~models.bo.data` — observations -> per-outcome training sets (bad data refused);
* :mod:`~models.bo.prior_mean` — a saturating (Hill) prior mean;
* :mod:`~models.bo.gp` — one GP per outcome, warm-started, serialised state;
* :mod:`~models.bo.quality` — leave-one-out error and calibration;
* :mod:`~models.bo.failures` — failed experiments as a feasibility model;
* :mod:`~models.bo.acquisition` — qLogNEI / qLogNEHVI with outcome constraints;
* :mod:`~models.bo.risk` — chance constraints, ``P(met) >= 1 - alpha``;
* :mod:`~models.bo.optimize` — the acquisition's optimiser over the mixed space;
* :mod:`~models.bo.suggest` — the entry point.

The package imports torch and botorch, so import it where the science runs (a worker, a
notebook), never in the API process. Importing it does no work.
"""
