; Every import anywhere in a file, for the workspace index and the bundle: which modules a file
; (or one of its functions) needs. `@import.module` is an absolute dotted name, `@import.from`
; the module of a from-import (relative ones included), `@import.name` one imported name.
(import_statement
  name: [
    (dotted_name) @import.module
    (aliased_import
      name: (dotted_name) @import.module
      alias: (identifier) @import.alias)
  ]) @import

(import_from_statement
  module_name: (_) @import.from
  name: [
    (dotted_name) @import.name
    (aliased_import
      name: (dotted_name) @import.name
      alias: (identifier) @import.alias)
  ]) @import

(import_from_statement
  module_name: (_) @import.from
  (wildcard_import) @import.wildcard) @import

; A module imported by a literal name: `importlib.import_module("pkg.mod")`, `import_module(...)`
; after `from importlib import import_module`, `__import__("pkg.mod")`. `@import.dynamic` is the
; string; a name known only at run time cannot be followed.
(call
  function: [
    (identifier) @_function
    (attribute
      object: (identifier) @_library
      attribute: (identifier) @_function)
  ]
  arguments: (argument_list
    .
    (string) @import.dynamic)
  (#any-of? @_function "import_module" "__import__")) @import
