"""The portal: buyers, monitors, accountants and admins sign in and work in a browser.

``app.py`` builds the Starlette application (sessions, CSRF tokens, the security headers, the
sign-in limits) from one route table: ``table.py`` defines a ``Page`` (method, path, handler,
roles, CSRF, slow, scope, body limit) and each module of pages exports its ``PAGES``.
``routes.py`` holds the pages, each a thin call to the application layer (``pennytrail.app``:
``browse``, ``casework``, ``signoff``, ``verification``, ``accounts``), and
``templates/`` and ``static/`` the server-rendered HTML and its CSS (no script). ``server.py``
runs it with uvicorn (`pennytrail serve`). It reads only the published snapshots of the
warehouse, so it keeps serving while a close runs.
"""
