"""The solver backends: stockpile's LP handed to a solver, solved, and read back.

``factory.make_backend`` is the one place a solver name (``highs``, ``highs-ipm``, ``highs-pulp``,
``cbc``) meets a class: ``highs.HighsBackend`` passes the LP's sparse arrays straight to HiGHS
(highspy) and can warm-start and patch in place; ``pulp.PulpBackend`` rebuilds it as a PuLP
problem for HiGHS or CBC. ``names`` makes the row and column names of exported LP and MPS
files (``balance(Sb,2028)``).
"""
