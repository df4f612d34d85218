"""REST endpoints for promises, their lifecycle actions and events."""

from datetime import datetime

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action

from accounts.models import Account, Contact, User
from accounts.selectors import accounts_visible_to, contacts_visible_to, users_visible_to
from interactions.models import Interaction
from interactions.selectors import interactions_visible_to
from promises import services
from promises.models import (
    Alert,
    Promise,
    PromiseEvent,
    is_overdue,
    kept_on_time,
    overdue_condition,
)
from promises.selectors import alerts_visible_to, promises_visible_to
from relcrm.api.actions import transition, transition_action
from relcrm.api.conditional import ConditionalMixin
from relcrm.api.fields import MomentField, VisibleRelatedField
from relcrm.api.filters import FilterSet, MomentFilter
from relcrm.api.idempotency import IdempotentPostMixin
from relcrm.api.pagination import IdCursorPagination
from relcrm.api.rows import RowListMixin, RowSerializer, iso


class OldestFirstPagination(IdCursorPagination):
    ordering = "id"


# Changed only through the actions, so that every change is an event.
ACTION_ONLY_FIELDS = {
    "due_at": "Use the renegotiate action to change the due time.",
    "status": "Use the keep, break or release actions to change the status.",
    "kept_at": "Use the keep action.",
    "account": "A promise cannot move to another account.",
    "owner": "A promise's owner cannot be changed.",
    "interaction": "A promise cannot move to another interaction.",
    "external_id": "The external id cannot be changed.",
}


PROMISE_COLUMNS = (
    "id", "account_id", "contact_id", "interaction_id", "owner_id", "description", "due_at",
    "status", "kept_at", "broken_at", "external_id", "created_at",
)  # fmt: skip


def promises_json(rows: list[dict], now: datetime | None = None, tz=None) -> list[dict]:
    """A promise's JSON, for rows of ``PROMISE_COLUMNS``: every answer about promises.

    ``is_overdue`` is judged at ``now`` (the time of the request), the same for every row.
    """
    now = now or timezone.now()
    tz = tz or timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "account": row["account_id"],
            "contact": row["contact_id"],
            "interaction": row["interaction_id"],
            "owner": row["owner_id"],
            "description": row["description"],
            "due_at": iso(row["due_at"], tz),
            "status": row["status"],
            "kept_at": iso(row["kept_at"], tz),
            "kept_on_time": kept_on_time(row["kept_at"], row["due_at"], row["broken_at"]),
            "is_overdue": is_overdue(row["status"], row["due_at"], now),
            "external_id": row["external_id"],
            "created_at": iso(row["created_at"], tz),
        }
        for row in rows
    ]


class PromiseSerializer(RowSerializer):
    """A commitment made to the customer, and what became of it."""

    # Validates a promise's writes and documents promises_json, which writes every answer.

    columns = PROMISE_COLUMNS
    represent = staticmethod(promises_json)
    unpatchable = ACTION_ONLY_FIELDS

    account = VisibleRelatedField(accounts_visible_to, model=Account)
    contact = VisibleRelatedField(
        contacts_visible_to, model=Contact, allow_null=True, required=False
    )
    interaction = VisibleRelatedField(
        interactions_visible_to, model=Interaction, allow_null=True, required=False
    )
    owner = VisibleRelatedField(users_visible_to, model=User, required=False)
    kept_on_time = serializers.BooleanField(read_only=True, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta(RowSerializer.Meta):
        model = Promise
        fields = [
            "id",
            "account",
            "contact",
            "interaction",
            "owner",
            "description",
            "due_at",
            "status",
            "kept_at",
            "kept_on_time",
            "is_overdue",
            "external_id",
            "created_at",
        ]
        read_only_fields = ["status", "kept_at", "created_at"]
        # external_id is unique in the account: the service checks it (DRF's
        # validator would make it required).
        validators: list = []

    def validate(self, attrs):
        if self.instance is not None:
            errors = {
                name: [message]
                for name, message in self.unpatchable.items()
                if name in self.initial_data
            }
            if errors:
                raise serializers.ValidationError(errors)
        return attrs

    def create(self, validated_data):
        return services.create_promise(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return services.update_promise(instance, **validated_data)


class NestedPromiseSerializer(serializers.Serializer):
    """A commitment made in an interaction, created with it."""

    description = serializers.CharField()
    due_at = MomentField()
    contact = VisibleRelatedField(
        contacts_visible_to, model=Contact, allow_null=True, required=False
    )


class PromiseFilter(FilterSet):
    overdue = filters.BooleanFilter(method="filter_overdue", label="Open and past due")
    due_before = MomentFilter(field_name="due_at", lookup_expr="lt")
    due_after = MomentFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Promise
        fields = ["status", "owner", "account", "interaction"]

    def filter_overdue(self, queryset, name, value):
        overdue = overdue_condition(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class KeepSerializer(serializers.Serializer):
    kept_at = MomentField(required=False, source="at")


class RenegotiateSerializer(serializers.Serializer):
    due_at = MomentField()
    note = serializers.CharField(allow_blank=True, required=False, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, required=False, default="")


class PromiseEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromiseEvent
        fields = ["id", "kind", "at", "by", "note", "old_due_at", "new_due_at"]


@extend_schema_view(
    list=extend_schema(
        description="The promises made at your team's accounts (an admin sees all), newest "
        "first. Filter by `status`, `owner`, `account`, `interaction`, `overdue=true` (open "
        "and past due) and the due time (`due_after`, `due_before`)."
    ),
    retrieve=extend_schema(description="One promise at one of your team's accounts."),
    create=extend_schema(
        description="Record a promise. The `owner` defaults to you. A due time already past "
        "is accepted (a promise logged after the fact) and the next overdue sweep breaks it."
    ),
    partial_update=extend_schema(
        description="Correct what was promised or to whom. The due time and the status "
        "change only through the actions (renegotiate, keep, break, release), so that every "
        "change is in the promise's history."
    ),
)
class PromiseViewSet(
    IdempotentPostMixin,
    ConditionalMixin,
    RowListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PromiseSerializer
    filterset_class = PromiseFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Promise.objects.none()

    def get_queryset(self):
        return promises_visible_to(self.request.user)

    @transition_action(request=KeepSerializer, answer=PromiseSerializer)
    def keep(self, request, pk=None):
        """Mark the promise delivered (now, or at `kept_at`); a broken one is kept late."""
        return transition(self, KeepSerializer, services.keep_promise)

    @transition_action(request=RenegotiateSerializer, answer=PromiseSerializer)
    def renegotiate(self, request, pk=None):
        """Agree a new due time with the customer (only before the current one)."""
        return transition(self, RenegotiateSerializer, services.renegotiate_promise)

    @transition_action(request=NoteSerializer, answer=PromiseSerializer, url_path="break")
    def break_(self, request, pk=None):
        """Tell the customer it will not happen (a disclosed break before the due time)."""
        return transition(self, NoteSerializer, services.break_promise)

    @transition_action(request=NoteSerializer, answer=PromiseSerializer)
    def release(self, request, pk=None):
        """The customer released us from the promise."""
        return transition(self, NoteSerializer, services.release_promise)

    @extend_schema(responses=PromiseEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def events(self, request, pk=None):
        """The promise's history, oldest first."""
        promise = self.get_object()
        paginator = OldestFirstPagination()
        page = paginator.paginate_queryset(promise.events.all(), request, view=self)
        return paginator.get_paginated_response(PromiseEventSerializer(page, many=True).data)


# --- alerts ---------------------------------------------------------------------------


ALERT_COLUMNS = (
    "id", "kind", "status", "account_id", "promise_id", "detail", "created_at",
    "acknowledged_by_id", "acknowledged_at", "resolved_by_id", "resolved_at", "note",
)  # fmt: skip


def alerts_json(rows: list[dict], tz=None) -> list[dict]:
    """An alert's JSON, for rows of ``ALERT_COLUMNS``: every answer about alerts."""
    tz = tz or timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "kind": row["kind"],
            "status": row["status"],
            "account": row["account_id"],
            "promise": row["promise_id"],
            "detail": row["detail"],
            "created_at": iso(row["created_at"], tz),
            "acknowledged_by": row["acknowledged_by_id"],
            "acknowledged_at": iso(row["acknowledged_at"], tz),
            "resolved_by": row["resolved_by_id"],
            "resolved_at": iso(row["resolved_at"], tz),
            "note": row["note"],
        }
        for row in rows
    ]


class AlertSerializer(RowSerializer):
    """Something a team lead should look at: a broken promise, or a health drop."""

    # Documents alerts_json, which writes every answer; an alert changes only through its actions.

    columns = ALERT_COLUMNS
    represent = staticmethod(alerts_json)

    class Meta(RowSerializer.Meta):
        model = Alert
        fields = [
            "id",
            "kind",
            "status",
            "account",
            "promise",
            "detail",
            "created_at",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "note",
        ]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, required=False, default="")


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="What was done about it.")


class AlertFilter(FilterSet):
    class Meta:
        model = Alert
        fields = ["status", "kind", "account"]


class ReviewsAlerts(permissions.BasePermission):
    """Leads of the alert's team and admins acknowledge and resolve it."""

    message = "Only the team's leads and admins review alerts."

    def has_object_permission(self, request, view, alert):
        return services.can_review_alerts(request.user, alert.account)


REVIEWERS_ONLY = [permissions.IsAuthenticated, ReviewsAlerts]


@extend_schema_view(
    list=extend_schema(
        description="Your team's alerts (an admin sees all), newest first: every broken "
        "promise and every account whose health fell to at risk. Filter by `status`, `kind` "
        "and `account`."
    ),
    retrieve=extend_schema(description="One alert of your team."),
)
class AlertViewSet(
    IdempotentPostMixin, ConditionalMixin, RowListMixin, viewsets.ReadOnlyModelViewSet
):
    """Broken promises and health drops for the team's leads to review."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    queryset = Alert.objects.none()

    def get_queryset(self):
        return alerts_visible_to(self.request.user)

    @transition_action(
        request=AcknowledgeSerializer, answer=AlertSerializer, permission_classes=REVIEWERS_ONLY
    )
    def acknowledge(self, request, pk=None):
        """A lead has seen the alert and owns the follow-up (leads and admins only)."""
        return transition(self, AcknowledgeSerializer, services.acknowledge_alert)

    @transition_action(
        request=ResolveSerializer, answer=AlertSerializer, permission_classes=REVIEWERS_ONLY
    )
    def resolve(self, request, pk=None):
        """Close the alert with a note on what was done (leads and admins only)."""
        return transition(self, ResolveSerializer, services.resolve_alert)
