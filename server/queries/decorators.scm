; A decorator that may be a Choppa one: `@inst.remote`, `@inst.artifact`, `@inst.submit`,
; bare or called, on a function definition; `inst` may be a dotted name (`@m.dc.remote`, through
; `import pkg.mod as m`). Whether `inst` is a Choppa instance, and whether the
; function is at module scope, is decided in TypeScript.
(decorated_definition
  (decorator
    [
      (attribute
        object: [(identifier) (attribute)] @instance
        attribute: (identifier) @kind)
      (call
        function: (attribute
          object: [(identifier) (attribute)] @instance
          attribute: (identifier) @kind))
    ]) @decorator
  definition: (function_definition
    name: (identifier) @name) @definition.function
  (#any-of? @kind "remote" "artifact" "submit")) @decorated
