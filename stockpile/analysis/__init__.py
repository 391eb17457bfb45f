"""Analysis, the questions a planner asks of plans, built on the rooms before it: why a plan buys
where it buys (``explain``), what each policy costs (``policy_costs``), the least budget that
keeps the stockpile solvent (``min_budget``), two plans side by side (``compare``), one scenario
at many parameter values (``sweep/``), plans that hold up across futures (``hedge/``), and the
executor that runs independent solves on local processes or a Dask cluster (``executor``)."""
