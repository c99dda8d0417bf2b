"""Settings for benchmark servers: production settings, suggestion cache off, quiet logs.

With the five-minute suggestion cache on, every suggestion request after the first would be a
cache hit; the benchmark measures the uncached cost instead (the worst case a user sees).
"""

from stardag_site.settings import *  # noqa: F403

TASK_SEARCH_CACHE_SECONDS = 0
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
