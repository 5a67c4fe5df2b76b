; A call of a plain name, `f(...)`: a call site when `f` is a decorated function.
(call
  function: (identifier) @name
  arguments: (argument_list) @arguments) @reference.call
