"""engine.suggestions: knowledge-base articles ranked for a user or a narrative, with their reasons."""
