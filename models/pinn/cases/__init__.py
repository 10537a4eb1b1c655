"""Built-in physics cases of the PINN engine; train one from a job with
:func:`models.pinn.cases.registry.train_case` (imported lazily: importing this package costs
nothing)."""
