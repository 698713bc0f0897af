"""OFD exchange: the session/frame protocol, the TCP transport and a mock OFD server."""
