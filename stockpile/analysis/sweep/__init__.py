"""What-if sweeps: one scenario solved for many parameter values.

``points`` reads the parameters (``--vary``, a sweep file) and applies them to the scenario;
``run`` solves the points in chunks, warm on one solver model, on any executor; ``results`` is the
table, its CSV file and ``--resume``; ``workbook`` writes the sweep's workbook.
"""
