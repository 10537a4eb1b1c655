"""Pictures of a campaign, rendered without a display and without torch.

``convergence`` (best feasible value per round, infeasible and failed experiments marked),
``pareto`` (the objectives and their non-dominated front) and ``parity`` (predicted against
observed, per outcome) are drawn here from plain data (:mod:`service.plots.data` reads it from
the database), so the API renders them itself. ``design`` is the problem plug-in's own picture
and needs its implementation: a worker renders it (:mod:`workers.handlers.plot`).
:mod:`service.plots.cache` keys every picture by the campaign state it shows.
"""
