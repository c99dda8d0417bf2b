"""The ``/api/v2`` protocol of SDK 0.27/0.28 (SDK-WIRE 4), task side: registration, claims,
reports, yield, build lifecycle, reads. Builds depend on nothing here; this package depends on
``builds`` (plans, deployments) the way the v1 task code does."""
