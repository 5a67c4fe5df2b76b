; A call through a module, `m.f(...)` or `pkg.mod.f(...)`: a call site when the dotted name is a
; decorated function of a module imported as `m` or `pkg.mod`. Read only in statements outside
; `def` and `class` (most such calls are method calls, and a function body's are never a site
; the user runs); `call-sites.ts` keeps callees that are names all the way down.
(call
  function: (attribute
    object: [(identifier) (attribute)]
    attribute: (identifier)) @name
  arguments: (argument_list) @arguments) @reference.call
