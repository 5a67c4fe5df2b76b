; An assignment of a constructor call, `dutch = Choppa(...)`, `dutch: Choppa = ch.Choppa(...)`.
; TypeScript checks that the constructor resolves to `choppa.Choppa` through the imports.
(assignment
  left: (identifier) @name
  right: (call
    function: [
      (identifier)
      (attribute
        object: (identifier)
        attribute: (identifier))
    ] @constructor
    arguments: (argument_list) @arguments) @call) @definition.instance
