; Every identifier, so the analysis can tell whether a module-level import is still used
; elsewhere before a quick fix removes it.
(identifier) @reference

; Identifiers that are not uses of a module-level name: an attribute after a dot (`h.scale`) and a
; keyword argument's name (`f(scale=2)`). Each is counted off the identifier it also is above.
(attribute
  attribute: (identifier) @name.attribute)
(keyword_argument
  name: (identifier) @name.keyword)
