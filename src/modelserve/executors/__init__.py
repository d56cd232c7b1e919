"""Executors materialise deployment plans: `local` (processes on this host), later `kubernetes`."""
