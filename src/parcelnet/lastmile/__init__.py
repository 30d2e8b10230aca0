"""The last mile: courier routes (PyVRP) on street travel times (docs/lastmile.md)."""
