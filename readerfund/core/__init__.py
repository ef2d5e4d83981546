"""What every app shares and no domain owns: money, amounts, locales, privacy, HTTP bodies and errors, rate
limits, counters, tasks, the worker's job registry. Imports no domain app (tests/test_walls.py)."""
