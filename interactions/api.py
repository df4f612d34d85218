"""REST endpoints for interactions, logged together with the commitments made in them."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.models import Account, Contact
from accounts.selectors import accounts_visible_to, contacts_visible_to
from interactions import services as interaction_services
from interactions.models import Interaction
from interactions.selectors import interactions_visible_to
from promises import services
from promises.api import PROMISE_COLUMNS, NestedPromiseSerializer, PromiseSerializer, promises_json
from promises.models import Promise
from relcrm.api.conditional import ConditionalMixin
from relcrm.api.fields import RequestResponseField, VisibleRelatedField
from relcrm.api.filters import FilterSet, IdFilter, MomentFilter
from relcrm.api.idempotency import IdempotentPostMixin
from relcrm.api.pagination import TimelinePagination
from relcrm.api.rows import RowListMixin, RowSerializer, columns_of, iso

INTERACTION_COLUMNS = (
    "id", "account_id", "kind", "direction", "occurred_at", "summary", "sentiment",
    "external_id", "logged_by_id", "created_at",
)  # fmt: skip

# The contacts present at some interactions (each interaction's in name order)
# and the promises made in them, for the ids of the interactions (one array
# parameter: with a placeholder per id, psycopg spent longer parsing a CSV
# export's batch of 2,000 ids than PostgreSQL spent answering; 24 -> 12 ms a
# batch). Plain statements: for a timeline page, two ORM querysets cost more to
# build than to run.
_CONTACTS_PRESENT = f"""
    SELECT present.interaction_id, present.contact_id
    FROM {Interaction.contacts.through._meta.db_table} AS present
    JOIN {Contact._meta.db_table} AS contact ON contact.id = present.contact_id
    WHERE present.interaction_id = ANY(%s)
    ORDER BY {", ".join(f"contact.{name}" for name in Contact._meta.ordering or ())}
"""
_PROMISES_MADE = f"""
    SELECT {", ".join(PROMISE_COLUMNS)} FROM {Promise._meta.db_table}
    WHERE interaction_id = ANY(%s) ORDER BY id
"""


def _read(statement: str, ids: list[int]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, [ids])
        return cursor.fetchall()


def interactions_json(
    rows: list[dict],
    *,
    contacts: dict[int, list[int]] | None = None,
    promises: list[dict] | None = None,
    now=None,
) -> list[dict]:
    """An interaction's JSON, for rows of ``INTERACTION_COLUMNS``: every answer about interactions.

    Each carries the ids of its contacts, in name order, and its promises as
    ``promises_json`` writes them, in id order. Both are read for all the rows
    at once (two statements, none for no rows), unless the caller has them in
    hand: ``contacts`` by interaction id, ``promises`` as rows of
    ``PROMISE_COLUMNS`` (a just-logged interaction need not be read back).
    """
    ids = [row["id"] for row in rows]
    if contacts is None:
        contacts = {pk: [] for pk in ids}
        for interaction_id, contact_id in _read(_CONTACTS_PRESENT, ids) if ids else ():
            contacts[interaction_id].append(contact_id)
    if promises is None:
        made = _read(_PROMISES_MADE, ids) if ids else ()
        promises = [dict(zip(PROMISE_COLUMNS, values, strict=True)) for values in made]
    made_in: dict[int, list[dict]] = {pk: [] for pk in ids}
    for promise in promises_json(promises, now):
        made_in[promise["interaction"]].append(promise)
    tz = timezone.get_current_timezone()
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
            "promises": made_in[row["id"]],
            "created_at": iso(row["created_at"], tz),
        }
        for row in rows
    ]


class InteractionSerializer(RowSerializer):
    """One touch-point with a customer, with the promises made in it."""

    # Validates an interaction's writes and documents interactions_json, which writes every answer.

    columns = INTERACTION_COLUMNS
    represent = staticmethod(interactions_json)
    unpatchable = {
        "account": "An interaction cannot move to another account.",
        "promises": "Add promises to an interaction with POST /promises/.",
        "external_id": "The external id cannot be changed.",
    }

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

    class Meta(RowSerializer.Meta):
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
        validators: list = []

    def validate_occurred_at(self, value):
        if interaction_services.is_in_future(value):
            raise serializers.ValidationError(interaction_services.FUTURE_MESSAGE)
        return value

    def validate(self, attrs):
        if self.instance is None:
            self._check_promise_contacts(attrs["account"], attrs.get("promises", ()))
        else:
            # Sending the account or external id it already has is no change, and allowed.
            changed = {
                "account": attrs.get("account") != self.instance.account,
                "promises": True,
                "external_id": (attrs.get("external_id") or None) != self.instance.external_id,
            }
            errors = {
                name: [message]
                for name, message in self.unpatchable.items()
                if name in self.initial_data and changed[name]
            }
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
        interaction, created = services.log_interaction(
            logged_by=self.context["request"].user, **validated_data
        )
        self.created = created
        return interaction

    def update(self, instance, validated_data):
        for name in ("account", "promises", "external_id"):
            validated_data.pop(name, None)
        return services.update_interaction(instance, **validated_data)


class InteractionFilter(FilterSet):
    contact = IdFilter(field_name="contacts", label="A contact was present")
    occurred_after = MomentFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = MomentFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta(RowSerializer.Meta):
        model = Interaction
        fields = ["account", "kind", "direction"]


@extend_schema_view(
    list=extend_schema(
        description="The interactions at your team's accounts (an admin sees all), latest "
        "first by when they happened, each with the promises made in it. Filter by "
        "`account`, `contact` (present), `kind`, `direction` and the time "
        "(`occurred_after`, `occurred_before`)."
    ),
    retrieve=extend_schema(description="One interaction, with the promises made in it."),
    partial_update=extend_schema(
        description="Correct a logged interaction: its kind, direction, time, summary, "
        "sentiment or the contacts present. Its account, external id and promises stay as "
        "they are (add a promise with POST /promises/)."
    ),
)
class InteractionViewSet(
    IdempotentPostMixin,
    ConditionalMixin,
    RowListMixin,
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

    def get_queryset(self):
        return interactions_visible_to(self.request.user)

    @extend_schema(
        description="Log an interaction with the promises made in it, created together or, "
        "on any error, not at all (201). An `external_id` already logged at the account "
        "answers that interaction, unchanged, and creates nothing (200).",
        responses={
            201: InteractionSerializer,
            200: OpenApiResponse(
                InteractionSerializer,
                description="The external_id was logged before: that interaction, unchanged.",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Log an interaction with the promises made in it (201); a known external_id is 200."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = serializer.save()
        if not serializer.created:
            # A replayed external_id: the interaction logged before, as every read shows it.
            return Response(serializer.data, status=status.HTTP_200_OK)
        # Answered from what was just written, not read back (the promises are in
        # hand; the contacts named are read, for their name order).
        named = serializer.validated_data.get("contacts")
        answer = interactions_json(
            [columns_of(interaction, INTERACTION_COLUMNS)],
            contacts=None if named else {interaction.pk: []},
            promises=[columns_of(p, PROMISE_COLUMNS) for p in interaction.promises_made],
        )[0]
        return Response(answer, status=status.HTTP_201_CREATED)
