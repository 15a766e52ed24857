"""The approval console: web pages where people review exactly what they approve (docs/console.md)."""
