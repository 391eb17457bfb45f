"""The Excel toolkit every stockpile workbook is written with (the plan's, the comparison's, the
sweep's and the hedge's): number formats and styles (``styles``), safe cells and sheet names
(``cells``), the sheet and table writer (``sheet``), charts (``charts``) and byte-identical saving
(``saving``). It knows nothing of plans or scenarios."""
