"""The command line, the pipeline's last room: the ``stockpile`` app (``app``), what its commands
share (``common``: consoles, options, output files and JSON, error handling), terminal tables in
planner's units (``tables``), progress on a terminal (``progress``) and one module per command group."""
