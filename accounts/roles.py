"""The roles of issue 8 as Django groups: name → permission codenames ("app_label.codename").

Read by the data migration that creates the groups; kept here so tests can assert against
the same table instead of repeating it.
"""

VIEW_PERSONAL_DATA = "accounts.view_personal_data"
VIEW_ALL_RECORDS = "accounts.view_all_records"
# Sales by owner and "My sales" only (METRICS.md O), without the dashboard's customer figures.
VIEW_OWN_SALES = "insights.view_own_sales"

SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"
SUPPORT_AGENT = "Support agent"
ANALYST = "Analyst"


def _perms(app_label: str, actions: tuple[str, ...], models: tuple[str, ...]) -> list[str]:
    return [f"{app_label}.{action}_{model}" for model in models for action in actions]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: [
        *_perms("customers", ("add", "change", "view"), ("contact", "company")),
        *_perms("deals", ("add", "change", "view"), ("deal", "dealitem", "lostreason")),
        *_perms("deals", ("view",), ("pipelinestage", "product")),
        # Data quality: their own contacts with key problems (the list is owner-scoped).
        "customers.view_contacttofix",
        # ... and their own deals left out of the figures for want of an exchange rate.
        "deals.view_dealwithoutrate",
        "deals.view_exchangerate",
        # Their own sales figures and targets (the target list is owner-scoped).
        VIEW_OWN_SALES,
        "deals.view_salestarget",
    ],
    SALES_MANAGER: [
        *_perms("customers", ("change", "view"), ("contact", "company", "customer")),
        *_perms(
            "deals",
            ("change", "view"),
            ("deal", "dealitem", "lostreason", "pipelinestage", "product"),
        ),
        *_perms("deals", ("add", "change", "delete", "view"), ("salestarget",)),
        *_perms("chats", ("change", "view"), ("chatcontact", "chatroom", "surveyresponse")),
        "insights.view_insights",
        # The API's CSV export needs only view_insights; the audit log of exports is theirs too.
        "audit.view_exportrecord",
        "customers.view_contacttofix",
        "chats.view_chatcontacttofix",
        # Exchange rates convert deals into the base currency (METRICS.md §3).
        *_perms("deals", ("add", "change", "view"), ("exchangerate",)),
        "deals.view_dealwithoutrate",
        VIEW_PERSONAL_DATA,
        VIEW_ALL_RECORDS,
    ],
    SUPPORT_AGENT: [
        *_perms("chats", ("add", "change", "view"), ("chatcontact", "chatroom", "surveyresponse")),
        "chats.view_chatcontacttofix",
        VIEW_PERSONAL_DATA,
    ],
    ANALYST: ["insights.view_insights"],
}
