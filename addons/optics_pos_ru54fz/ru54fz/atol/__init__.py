"""ATOL registers through the ATOL driver's web server (JSON tasks over HTTP).

* ``tables``    value names of the JSON tasks and the driver's error codes;
* ``driver``    ``AtolDriver``: the ``FiscalDevice`` interface over the web server;
* ``firmware``  the emulator's side of the JSON tasks, on the shared FN model;
* ``webserver`` the emulated web server (HTTP) with fault injection;
* ``harness``   start the emulated web server as a subprocess (tests, benchmarks).

Layouts and sources: docs/kkt_atol_webserver.md.
"""
