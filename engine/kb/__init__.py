"""engine.kb: knowledge-base articles (validation, passages, embedding) and verdicts on them."""
