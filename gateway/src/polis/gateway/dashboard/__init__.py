"""The web dashboard: static HTML, CSS and vanilla JS served by the gateway (no CDN)."""
