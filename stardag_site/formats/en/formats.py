"""Date-time formats for the admin (``FORMAT_MODULE_PATH``): seconds and the time zone.

Django's English default (``N j, Y, P``) shows "Nov. 30, 2026, 12:04 p.m.": build and lock times
a minute apart look equal and nothing says they are UTC. Operators compare these times with logs,
which carry seconds and a zone.
"""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
