"""The command line, the pipeline's last room: the ``stockpile`` app (``app``), what its commands
share (``common``: options, consoles, error handling) and one module per command group."""
