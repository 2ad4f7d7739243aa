"""perovscope.viewer: a local, read-only web page to browse a results folder (see docs/viewer.md).

``perovscope view RESULTS`` starts it; from Python::

    from perovscope.viewer import serve_in_thread
    server, thread = serve_in_thread("out/session")   # 127.0.0.1, a free port
    print(server.url)
    server.shutdown()
"""

from .data import ResultsData
from .security import loopback_address
from .server import ViewerServer, make_server, serve_in_thread

__all__ = ["ResultsData", "ViewerServer", "make_server", "serve_in_thread", "loopback_address"]
