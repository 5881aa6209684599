"""A dictionary lookup for the Import CSV page's example rows."""

from django import template

register = template.Library()


@register.filter(name="get_item")
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""
