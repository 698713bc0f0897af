"""A Shtrih-M KKT with a fiscal drive, emulated in a separate process.

``python3 -m ru54fz.emulator --port N [--pty] [--state-file F]`` speaks the
Shtrih classic protocol over TCP (and a pty for the serial path); a second
TCP port takes line-based JSON control commands (faults, clock) —
``control.EmulatorControl`` is the client, ``harness.start_emulator`` starts
one for tests and the demo.
"""
