"""Model types behind one interface (``diploml.models.base.Model``): transformer, tfidf, rules."""
