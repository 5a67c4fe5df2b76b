; Every call of a name or `module.name`, `Choppa(...)` among them: the analysis reports the ones
; that resolve to `choppa.Choppa` but are not a module-level `name = Choppa(...)` it can follow.
(call
  function: [
    (identifier)
    (attribute
      object: (identifier)
      attribute: (identifier))
  ] @constructor
  arguments: (argument_list)) @call
