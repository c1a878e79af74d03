"""The PSP simulator: stands in for the outside payment provider.

It plays another company's system, so it imports nothing of ours but its own modules; the one
piece both sides share is ``gamestore.psp.wire``. Like any program it uses libraries, among them
``inline_sqlite`` (a database driver that knows nothing of GameStore). See ``app.py`` for the HTTP
surface.
"""
