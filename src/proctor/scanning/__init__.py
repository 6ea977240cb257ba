"""Loading the scanners: entry points, the optional stages and their options, the HTTP judge.

Sits below the runtime (which builds its cascade from the config's
``scanning:`` section) and above the pure ``proctor.scanners``.
"""
