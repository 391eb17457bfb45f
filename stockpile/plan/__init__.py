"""The plan, the pipeline's fourth room: a solution read back as the planner's tables (``read``:
orders, inventory, Fund, sourcing, marginal values, KPIs and the solvency horizon), checked by an
audit that recomputes them from the scenario and the tables alone (``audit``), with the record that
reproduces it (``reproduce``). ``pipeline`` is the one path every command takes: build, solve, read
back, audit."""
