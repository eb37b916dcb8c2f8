"""``finews serve``: the built site plus search, a JSON API, live updates and search
feeds (issue #6).  :func:`finews.web.app.create_app` builds the ASGI app."""
