"""REST endpoints for interactions, logged together with the commitments made in them."""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.models import Account, Contact
from accounts.selectors import accounts_visible_to, contacts_visible_to
from interactions import services as interaction_services
from interactions.models import Interaction
from interactions.selectors import interactions_visible_to
from promises import services
from promises.api import PROMISE_COLUMNS, NestedPromiseSerializer, PromiseSerializer, promise_rows
from promises.models import Promise
from relcrm.api.fields import RequestResponseField, VisibleRelatedField
from relcrm.api.filters import FilterSet, IdFilter
from relcrm.api.lean import LeanListMixin, iso
from relcrm.api.pagination import TimelinePagination


class InteractionSerializer(serializers.ModelSerializer):
    account = VisibleRelatedField(accounts_visible_to, model=Account)
    contacts = VisibleRelatedField(contacts_visible_to, model=Contact, many=True, required=False)
    sentiment = serializers.IntegerField(min_value=-2, max_value=2, allow_null=True, required=False)
    external_id = serializers.CharField(
        max_length=200, allow_null=True, allow_blank=True, required=False
    )
    promises = RequestResponseField(
        read=PromiseSerializer(many=True),
        write=NestedPromiseSerializer(many=True),
        required=False,
        help_text="In a request, the commitments made in it, created with it; "
        "in a response, the full promises.",
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "account",
            "contacts",
            "kind",
            "direction",
            "occurred_at",
            "summary",
            "sentiment",
            "external_id",
            "logged_by",
            "promises",
            "created_at",
        ]
        read_only_fields = ["logged_by", "created_at"]
        # Replaying an external_id returns the interaction already logged (see
        # log_interaction), so the unique constraint must not turn it into a 400.
        validators = []

    def validate_occurred_at(self, value):
        if interaction_services.is_in_future(value):
            raise serializers.ValidationError(interaction_services.FUTURE_MESSAGE)
        return value

    def validate(self, attrs):
        if self.instance is None:
            self._check_promise_contacts(attrs["account"], attrs.get("promises", ()))
        else:
            errors = {}
            if "account" in self.initial_data and attrs.get("account") != self.instance.account:
                errors["account"] = ["An interaction cannot move to another account."]
            if "promises" in self.initial_data:
                errors["promises"] = ["Add promises to an interaction with POST /promises/."]
            if (
                "external_id" in self.initial_data
                and (attrs.get("external_id") or None) != self.instance.external_id
            ):
                errors["external_id"] = ["The external id cannot be changed."]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _check_promise_contacts(account, promises):
        """Report a promise made to a person at another account on that promise."""
        errors = []
        for item in promises:
            try:
                services.check_contact(item.get("contact"), account)
            except DjangoValidationError as error:
                errors.append(error.message_dict)
            else:
                errors.append({})
        if any(errors):
            raise serializers.ValidationError({"promises": errors})

    def create(self, validated_data):
        self.contacts_named = bool(validated_data.get("contacts"))
        interaction, created = services.log_interaction(
            logged_by=self.context["request"].user, **validated_data
        )
        self.created = created
        return interaction

    def update(self, instance, validated_data):
        for name in ("account", "promises", "external_id"):
            validated_data.pop(name, None)
        return services.update_interaction(instance, **validated_data)


# A timeline page's contacts (each interaction's in name order) and promises,
# for the ids of its interactions (``{ids}``: one placeholder per id).
_PAGE_CONTACTS = f"""
    SELECT present.interaction_id, present.contact_id
    FROM {Interaction.contacts.through._meta.db_table} AS present
    JOIN {Contact._meta.db_table} AS contact ON contact.id = present.contact_id
    WHERE present.interaction_id IN ({{ids}})
    ORDER BY {", ".join(f"contact.{name}" for name in Contact._meta.ordering)}
"""
_PAGE_PROMISES = f"""
    SELECT {", ".join(PROMISE_COLUMNS)} FROM {Promise._meta.db_table}
    WHERE interaction_id IN ({{ids}}) ORDER BY id
"""


def _contacts_present(ids: list[int]) -> dict[int, list[int]]:
    """Each interaction's contacts, in name order, by interaction id (no query for none)."""
    contacts: dict[int, list[int]] = {pk: [] for pk in ids}
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(_PAGE_CONTACTS.format(ids=", ".join(["%s"] * len(ids))), ids)
            for interaction_id, contact_id in cursor.fetchall():
                contacts[interaction_id].append(contact_id)
    return contacts


_PROMISE_TIMES = [PROMISE_COLUMNS.index(name) for name in ("due_at", "kept_at", "created_at")]


def _promise_row(values: tuple) -> dict:
    """A row of ``_PAGE_PROMISES`` as ``values(*PROMISE_COLUMNS)`` would give it.

    A plain cursor skips the ORM's converters: SQLite gives its UTC times naive.
    """
    row = dict(zip(PROMISE_COLUMNS, values, strict=True))
    for index in _PROMISE_TIMES:
        moment = values[index]
        if moment is not None and timezone.is_naive(moment):
            row[PROMISE_COLUMNS[index]] = moment.replace(tzinfo=UTC)
    return row


def _timeline_rows(
    rows: list[dict], contacts: dict[int, list[int]], made: list[dict]
) -> list[dict]:
    """``InteractionSerializer``'s answer for rows of ``lean_fields``.

    With each interaction's contacts (by id of the interaction) and the rows
    of ``PROMISE_COLUMNS`` of the promises made in them, in id order.
    """
    tz = timezone.get_current_timezone()
    promises: dict[int, list[dict]] = {row["id"]: [] for row in rows}
    for promise in promise_rows(made, timezone.now(), tz):
        promises[promise["interaction"]].append(promise)
    return [
        {
            "id": row["id"],
            "account": row["account_id"],
            "contacts": contacts[row["id"]],
            "kind": row["kind"],
            "direction": row["direction"],
            "occurred_at": iso(row["occurred_at"], tz),
            "summary": row["summary"],
            "sentiment": row["sentiment"],
            "external_id": row["external_id"],
            "logged_by": row["logged_by_id"],
            "promises": promises[row["id"]],
            "created_at": iso(row["created_at"], tz),
        }
        for row in rows
    ]


class InteractionFilter(FilterSet):
    contact = IdFilter(field_name="contacts", label="A contact was present")
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ["account", "kind", "direction"]


class InteractionViewSet(
    LeanListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    pagination_class = TimelinePagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Interaction.objects.none()
    lean_fields = (
        "id", "account_id", "kind", "direction", "occurred_at", "summary", "sentiment",
        "external_id", "logged_by_id", "created_at",
    )  # fmt: skip

    def get_queryset(self):
        return interactions_visible_to(self.request.user).prefetch_related(
            "contacts", Prefetch("promises", queryset=Promise.objects.order_by("id"))
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def lean_rows(self, rows):
        """The page with each interaction's contacts (by name) and promises (by id)."""
        ids = [row["id"] for row in rows]
        contacts = _contacts_present(ids)
        made = []
        if ids:
            # Plain statements: two ORM querysets cost more to build than to run.
            with connection.cursor() as cursor:
                cursor.execute(_PAGE_PROMISES.format(ids=", ".join(["%s"] * len(ids))), ids)
                made = [_promise_row(row) for row in cursor.fetchall()]
        return _timeline_rows(rows, contacts, made)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = serializer.save()
        if getattr(serializer, "created", True):
            # Answered as a timeline row (held equal to the detail by the lean
            # list tests) from what was just written, rather than read back or
            # run through the serializer (a fifth of the request); named
            # contacts are read in their order (the people, not the writes).
            row = {name: getattr(interaction, name) for name in self.lean_fields}
            named = serializer.contacts_named
            contacts = _contacts_present([interaction.pk] if named else [])
            contacts.setdefault(interaction.pk, [])
            made = [
                {column: getattr(promise, column) for column in PROMISE_COLUMNS}
                for promise in interaction.promises_made
            ]
            answer = _timeline_rows([row], contacts, made)[0]
            return Response(answer, status=status.HTTP_201_CREATED)
        # A replayed external_id: the interaction logged before, as the list shows it.
        interaction = self.get_queryset().get(pk=interaction.pk)
        return Response(self.get_serializer(interaction).data, status=status.HTTP_200_OK)
