"""Presentation: maps (PNG and self-contained HTML), reports, rich tables and progress bars.
The CLI and the demo draw with it; compute packages never import it."""
