"""How runs are queued, estimated and checked: ``python -m ibcore run-all`` (:mod:`.run_all`: every
experiment's trials as one queue), run-time estimates per device kind (:mod:`.estimate`, from the
measured and derived speeds of :mod:`.throughput`), and ``python -m ibcore verify`` (:mod:`.verify`:
a committed result re-checked against today's code).

The submodules are the public names (``from ibcore.runs import run_all, estimate, verify``); nothing
is re-exported here, so that no function hides the module of the same name.
"""
