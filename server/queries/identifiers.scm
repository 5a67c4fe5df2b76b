; Every identifier, so the analysis can tell whether a module-level import is still used
; elsewhere before a quick fix removes it.
(identifier) @reference
