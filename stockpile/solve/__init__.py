"""Solving the model, the pipeline's third room: typed statuses (``status``), the solver backends
and their factory (``backends/``), the lexicographic driver (``lexicographic``) and, when no plan
exists, the diagnosis of which hard limits conflict (``diagnose``, with the per-family relaxations
in ``relaxations`` and value formatting in ``units``)."""
