"""The reservation conformance check: drive one station through the Reservation rules.

- :mod:`~console.central.check.model`: what a check is asked to do and what it found
  (plain immutable records); :mod:`~console.central.check.codec`: their JSON and CSV forms.
- :mod:`~console.central.check.steps`: one function per step, named after its
  :class:`~console.central.check.model.CheckStep` (``grep -n "def expiry"``);
  :mod:`~console.central.check.context`: what a step gets and returns.
- :mod:`~console.central.check.evidence`: the observer that collects what the station does.
- :mod:`~console.central.check.calls`: the check's calls to the station, bounded in time.
- :mod:`~console.central.check.runner`: the order of the steps, time limits, clean-up.
- :mod:`~console.central.check.service`: the running checks, owned for the application.

Import from the modules: the store imports the model and the codec, and must not pull in
the runner (which needs the Central System's change feed).
"""
