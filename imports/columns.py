"""Which column of a file gives which field: the API's names, and what other CRMs call them.

A header matches a field when it is the field's name or one of its aliases,
compared without case and with spaces, dashes and underscores alike: "First
Name", "first_name" and "FIRST-NAME" all give ``first_name``. The aliases are
the column names HubSpot and Salesforce write in their exports of companies
and contacts. A column that gives no field is ignored.
"""

import re

from imports.reading import FileError

# Each resource's fields a file may give, in the order the web UI offers them.
FIELDS = {
    "accounts": ["name", "domain", "owner", "team", "external_id"],
    "contacts": [
        "account",
        "account_external_id",
        "account_domain",
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "external_id",
    ],
    "interactions": [
        "account",
        "account_external_id",
        "account_domain",
        "contacts",
        "kind",
        "direction",
        "occurred_at",
        "summary",
        "sentiment",
        "external_id",
    ],
    "promises": [
        "account",
        "account_external_id",
        "account_domain",
        "contact",
        "interaction",
        "interaction_external_id",
        "owner",
        "description",
        "due_at",
        "status",
        "created_at",
        "kept_at",
        "broken_at",
        "released_at",
        "external_id",
    ],
}

ALIASES = {
    "accounts": {
        # HubSpot companies
        "company_name": "name",
        "company_domain_name": "domain",
        "record_id": "external_id",
        # Salesforce accounts
        "account_name": "name",
        "website": "domain",
        "account_id": "external_id",
    },
    "contacts": {
        # HubSpot contacts
        "email_address": "email",
        "phone_number": "phone",
        "mobile_phone_number": "phone",
        "job_title": "title",
        "record_id": "external_id",
        "associated_company_id": "account_external_id",
        "company_domain_name": "account_domain",
        # Salesforce contacts
        "contact_id": "external_id",
        "account_id": "account_external_id",
        "website": "account_domain",
        "business_phone": "phone",
    },
    "interactions": {},
    "promises": {},
}


def normalised(header: str) -> str:
    """A header compared without case, spaces, dashes or underscores making a difference."""
    return re.sub(r"[\s_\-]+", "_", header.strip().lstrip("\ufeff").lower()).strip("_")


def field_of(resource: str, header: str) -> str | None:
    """The field a header gives for ``resource``, or None."""
    name = normalised(header)
    if name in FIELDS[resource]:
        return name
    return ALIASES[resource].get(name)


def map_columns(
    resource: str, headers: list[str], mapping: dict[str, str] | None = None
) -> dict[str, int]:
    """Each field the file gives, with the index of its column.

    ``mapping`` (from the web UI) says for a header which field it gives ("" for
    none); the other headers are matched by name and alias. Two columns giving
    the same field is a ``FileError``: which one to believe is not ours to guess.
    """
    mapping = mapping or {}
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = mapping[header] or None if header in mapping else field_of(resource, header)
        if field is None:
            continue
        if field not in FIELDS[resource]:
            raise FileError(f"{resource.capitalize()} have no field {field!r}.", column=header)
        if field in columns:
            first = headers[columns[field]]
            raise FileError(
                f"The columns {first!r} and {header!r} both give {field}: keep one.",
                column=header,
            )
        columns[field] = index
    return columns
