"""The model, the pipeline's second room: the scenario as a linear program. ``lp`` is the
solver-neutral LP (columns, rows and objectives named ``family[key]``, and the parser of those
names), ``families`` the one registry of row and column families that every later room reads,
and ``build`` the LP itself, one ``define_*`` function per family with its math in the docstring."""
