"""The project: settings, URLs, the ASGI and WSGI entry points and the API assembly.

It wires every app together; no app imports it.
"""
