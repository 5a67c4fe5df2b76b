; `with inst.session():` (optionally `as s`, optionally among other context managers).
(with_statement
  (with_clause
    (with_item
      value: [
        (call
          function: (attribute
            object: (identifier) @instance
            attribute: (identifier) @_method))
        (as_pattern
          (call
            function: (attribute
              object: (identifier) @instance
              attribute: (identifier) @_method)))
      ]))
  (#eq? @_method "session")) @scope.session
