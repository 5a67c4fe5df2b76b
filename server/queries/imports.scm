; Every import clause: `import a.b`, `import a as b`, `from m import x`, `from m import x as y`.
; `@import.clause` is the part that binds one name, so a quick fix can remove just that one.
(import_statement
  name: (dotted_name) @import.module @import.clause) @import

(import_statement
  name: (aliased_import
    name: (dotted_name) @import.module
    alias: (identifier) @import.alias) @import.clause) @import

(import_from_statement
  module_name: (_) @import.from
  name: (dotted_name) @import.name @import.clause) @import

(import_from_statement
  module_name: (_) @import.from
  name: (aliased_import
    name: (dotted_name) @import.name
    alias: (identifier) @import.alias) @import.clause) @import
