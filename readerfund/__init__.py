"""readerfund: self-hostable reader revenue for newsrooms. The map is docs/ARCHITECTURE.md."""
