"""Cloud providers behind one interface; `registry` names them, says what each can do and
builds their clients."""
