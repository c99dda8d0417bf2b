"""Property-based: arbitrary filter strings, keys, values, sorts and pages at the search and
suggestion endpoints never cause a 500 and never show another environment's task.

The catalog (two environments, see ``conftest.py``) is seeded once per test function and only
read by the examples, so sharing the function-scoped fixture across examples is safe.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.search.catalog import SEARCH_URL, Catalog

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text the HTTP layer can carry (no lone surrogates); NUL included on purpose.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
keys = st.sampled_from([
    "task_name", "task_namespace", "task_id", "version", "created_at", "build_id", "build_name",
    "status", "param.lr", "param.label", "param.nested.depth", "param.items[0].k",
    "param.items[99999].k", "param.123", "param.__name", "asset.metrics.accuracy",
    "asset.report.content", "asset.x.y", "param.", "asset.", "param.a-b", "unknown",
]) | text
operators = st.sampled_from(["", "=:", "!=:", ">:", "<:", ">=:", "<=:", "~:", "==:", "<>:"])
values = st.sampled_from([
    "0.1", "5", "-2", "1e3", "1e999", "-1e-999", "NaN", "Infinity", "true", "null", "hello",
    "%", "_", "\\", "'", '"', "{}", "[1]", "2026-01-11", "2026-01-11T00:00:00Z",
    "9999-12-31", "0001-01-01T00:00:00+05:00", "99999999999999999999999", "",
]) | text
clause = st.builds(lambda k, o, v: f"{k}:{o}{v}", keys, operators, values)
filters = st.lists(clause | text, max_size=4).map(",".join)
sorts = st.sampled_from(["created_at:asc", "task_name:desc", "task_namespace:asc", "x:y"]) | text
pages = st.integers(min_value=-2, max_value=10**7) | text
page_sizes = st.integers(min_value=-1, max_value=102) | text


def check_no_leak(catalog: Catalog, body: dict) -> None:
    environment_id = str(catalog.tenant.environment.pk)
    for task in body["tasks"]:
        assert task["environment_id"] == environment_id
        assert task["task_id"] not in catalog.other_task_ids


@PROPERTY_SETTINGS
@given(filter_=filters, q=st.none() | text, sort=st.none() | sorts, page=st.none() | pages,
       page_size=st.none() | page_sizes, include=st.none() | text)
def test_search_never_fails_and_never_leaks(catalog: Catalog, filter_: str, q: str | None,
                                            sort: str | None, page, page_size,
                                            include: str | None) -> None:
    params = {"filter": filter_, "q": q, "sort": sort, "page": page, "page_size": page_size,
              "include_assets": include}
    response = catalog.client.get(SEARCH_URL, {k: v for k, v in params.items() if v is not None})
    assert response.status_code in (200, 422), response.content
    if response.status_code == 200:
        body = response.json()
        check_no_leak(catalog, body)
        assert body["total"] <= 7
    else:
        assert isinstance(response.json()["detail"], list)


@PROPERTY_SETTINGS
@given(key=st.none() | keys, prefix=st.none() | text,
       limit=st.none() | st.integers(min_value=-1, max_value=101) | text)
def test_suggestions_never_fail_and_never_leak(catalog: Catalog, key: str | None,
                                               prefix: str | None, limit) -> None:
    common = {k: v for k, v in {"prefix": prefix, "limit": limit}.items() if v is not None}
    other_values = {"b-t1", "b-t2", "t1x", "0.99", str(catalog.other.environment.pk)}
    for url, params in (
        ("/api/v1/tasks/search/keys", common),
        ("/api/v1/tasks/search/values", {**common, **({"key": key} if key is not None else {})}),
        ("/api/v1/tasks/search/columns", {}),
    ):
        response = catalog.client.get(url, params)
        assert response.status_code in (200, 422), (url, response.content)
        if response.status_code == 200 and url.endswith("values"):
            assert not {v["value"] for v in response.json()["values"]} & other_values
