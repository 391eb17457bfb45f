"""The scenario, the pipeline's first room: the file's schema and per-FY series, ``extends``
merging, loading and cross-reference checks, the baseline data and the defaults built from it,
and the rules that say how a scenario applies to one option in one FY."""
