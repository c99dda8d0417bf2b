"""Task search (contract §4.12, §7): ``GET /api/v1/tasks/search`` and its suggestion endpoints.

One entry point per layer, each depending only on the layers above it in this list:

1. ``grammar.parse_filter``: the ``filter`` text → ``Clause`` objects (pure, no database).
2. ``conditions.search_conditions`` (and ``q_condition``, ``sort_order``): clauses → ``Q``.
3. ``expressions`` and ``numbers``: the fixed-template SQL expressions those conditions use
   (``numbers`` answers numeric ranges from the PostgreSQL side table).
4. ``filters.TaskSearchFilterSet``: query parameters → a filtered, ordered queryset, handed the
   caller's environment by the view.
5. ``views`` (routes in ``urls``): the endpoints; ``results`` shapes one page of rows and
   ``suggestions`` answers the key / value / column endpoints.

Nothing is re-exported here, so importing one layer never imports the ones below it.
"""
