"""Solving the model: typed statuses (``status``), the solver backends and their factory
(``backends/``), the lexicographic driver (``lexicographic``) and, when no plan exists, the
diagnosis of which hard limits conflict (``diagnose``)."""
