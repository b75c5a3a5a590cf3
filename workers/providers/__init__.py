"""Cloud providers behind one interface; `registry.client_for(name)` picks the class."""
