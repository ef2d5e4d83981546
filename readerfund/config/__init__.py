"""The project's wiring: settings (every one an environment variable), urls, WSGI/ASGI, and the OpenAPI
document assembled from each app's part. Above every app; no app imports it."""
