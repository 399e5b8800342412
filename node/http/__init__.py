"""The HTTP surface: the Starlette app factory, the JSON API, the live stream (WebSocket and
long-poll), the status document and the dashboard's static files."""
