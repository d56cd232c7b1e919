"""Control plane: the reconciler owns run state; the engine choice and status shapes live beside it."""
