"""Cloud providers behind one interface, a module per provider declaring its client as
``CLIENT``; `registry` finds them, says what each can do and builds their clients."""
