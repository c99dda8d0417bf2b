"""Settings for the test suite: production settings with test-only secrets filled in.

Only values the environment does not set are defaulted, so ``DATABASE_URL`` still chooses
between SQLite (default) and PostgreSQL.
"""

import os

from stardag_site.keys import generate_rsa_private_key_pem

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault(
    "STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
if not os.environ.get("JWT_PRIVATE_KEY"):
    os.environ["JWT_PRIVATE_KEY"] = generate_rsa_private_key_pem()
# Rate limits are off unless a test turns them on (tests/core/test_rate_limit.py): the suite
# sends thousands of requests from one address and one key.
os.environ.setdefault("RATE_LIMIT_REQUESTS", "0")
os.environ.setdefault("RATE_LIMIT_ANONYMOUS_REQUESTS", "0")
os.environ.setdefault("RATE_LIMIT_FAILED_AUTH", "0")
os.environ.setdefault("OIDC_ISSUER_URL", "http://idp.test/realms/stardag")
# No statement timeout for the test process itself: creating and dropping the test databases
# waits for a checkpoint, which on a loaded machine outlasts any request budget. The timeout is
# tested against the server's own settings (tests/core/test_statement_timeout.py).
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")

from stardag_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

WHITENOISE_AUTOREFRESH = True  # serve from finders; no collectstatic needed in tests
