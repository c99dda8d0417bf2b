"""Turn an admin change page into the POST data its "Save" button would send."""

from __future__ import annotations

from typing import Any


def _field_values(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v.pk if hasattr(v, "pk") else v) for v in value]
        elif value is None:
            data[bound.html_name] = ""
        else:
            data[bound.html_name] = str(value.pk if hasattr(value, "pk") else value)
    return data


def change_form_data(response: Any) -> dict[str, Any]:
    """The main form's and every inline formset's current values, management forms included.
    Inline rows are keyed ``<prefix>-<n>-<field>``; see ``inline_rows``."""
    data = _field_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_field_values(formset.management_form))
        for form in formset.forms:
            data.update(_field_values(form))
    return data


def inline_rows(response: Any, prefix: str) -> dict[Any, str]:
    """``{instance: form prefix}`` of an inline formset's existing rows."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return {form.instance: form.prefix for form in inline.formset.initial_forms}
    raise KeyError(prefix)
