"""REST endpoints for auth tokens, teams, users, accounts and contacts."""

from django.contrib.auth import authenticate
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import Account, ApiToken, Contact, Team, User
from accounts.selectors import (
    accounts_matching,
    accounts_visible_to,
    contacts_matching,
    contacts_visible_to,
    teams_visible_to,
    tokens_of,
    users_visible_to,
)
from accounts.throttles import LOGIN_THROTTLES
from relcrm.api.conditional import ConditionalMixin
from relcrm.api.fields import VisibleRelatedField
from relcrm.api.filters import FilterSet
from relcrm.api.idempotency import IdempotentPostMixin
from relcrm.api.rows import RowListMixin, RowSerializer, iso
from relcrm.api.schema import field_errors_response
from relcrm.api.throttling import client_address


class IsAdminOrReadOnly(permissions.BasePermission):
    """Anyone signed in reads (within their scope); only admins create."""

    message = "Only admins may do this."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.is_superuser


# --- auth -------------------------------------------------------------------------------


class DaysField(serializers.IntegerField):
    """A whole number of days, as a JSON integer: ``1.5``, ``"7"`` or ``true`` is refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class TokenOptionsSerializer(serializers.Serializer):
    """What a new token is: the sign-in's and the token page's options."""

    name = serializers.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        required=False,
        allow_blank=True,
        default="api",
        help_text="A label to recognise the token by.",
    )
    expires_in_days = DaysField(
        min_value=1,
        max_value=ApiToken.MAX_DAYS,
        required=False,
        allow_null=True,
        default=None,
        help_text="The token stops working this many days from now; none: until revoked.",
        error_messages={"invalid": services.TOKEN_DAYS_MESSAGE},
    )
    scope = serializers.ChoiceField(
        choices=ApiToken.Scope.choices,
        default=ApiToken.Scope.READ_WRITE,
        help_text="`read`: GET only (a write is a 403); `read_write`: everything your role may.",
    )


class TokenRequestSerializer(TokenOptionsSerializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class ApiTokenSerializer(serializers.ModelSerializer):
    """One of your API tokens, as its owner sees it: never its secret."""

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scope", "created_at", "last_used_at", "expires_at"]
        read_only_fields = fields


class TokenView(APIView):
    """A bearer token for a username and password, and its revocation."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = list(LOGIN_THROTTLES)

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(
        description="Exchange a username and password for a bearer token: send it as "
        "`Authorization: Bearer <token>`. Optionally name it, give it a lifetime "
        "(`expires_in_days`, 1 to 3650; an expired token is a 401) and a `scope` (`read`: "
        "a write with it is a 403). Wrong credentials or a bad option are a 400; so many "
        "tries that the address and username are throttled, a 429. It takes no "
        "`Idempotency-Key`: its answer is a secret, never stored.",
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            # authenticate() has recorded the failed sign-in (accounts.signals).
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with the provided credentials."]}
            )
        address = client_address(request)
        options = serializer.validated_data
        services.record_sign_in(user, address=address, detail="for an API token")
        _, clear = services.issue_token(
            user,
            name=options["name"],
            scope=options["scope"],
            expires_in_days=options["expires_in_days"],
            by=user,
            address=address,
        )
        return Response({"token": clear})

    @extend_schema(
        description="Revoke the token this request is signed with: "
        "every request bearing it is refused from now on.",
        request=None,
        responses={
            204: None,
            400: field_errors_response("The request was not signed with a bearer token."),
        },
    )
    def delete(self, request):
        token = request.auth
        if not isinstance(token, ApiToken):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send the token to revoke as Authorization: Bearer."]}
            )
        services.revoke_token(token, by=request.user, address=client_address(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        description="Your own API tokens that are not revoked, newest first: name, prefix "
        "(the start of the token, to recognise it by), scope, when it was created, last used "
        "(to the minute) and expires. The secret is never shown again."
    ),
    retrieve=extend_schema(description="One of your tokens; another user's is a 404."),
    destroy=extend_schema(
        description="Revoke one of your tokens: every request bearing it is refused from "
        "now on. Another user's token is a 404."
    ),
)
class ApiTokenViewSet(
    ConditionalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()

    def get_queryset(self):
        return tokens_of(self.request.user)

    def perform_destroy(self, instance):
        services.revoke_token(instance, by=self.request.user, address=client_address(self.request))


# --- teams and users ---------------------------------------------------------------------


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "created_at"]
        read_only_fields = ["created_at"]


@extend_schema_view(
    list=extend_schema(description="The teams you may see: your own (an admin sees every team)."),
    retrieve=extend_schema(description="One team, if it is yours (an admin sees every team)."),
    create=extend_schema(description="Create a team (admins only)."),
)
class TeamViewSet(
    IdempotentPostMixin,
    ConditionalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TeamSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrReadOnly]
    queryset = Team.objects.none()

    def get_queryset(self):
        return teams_visible_to(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.create_team(**serializer.validated_data)


class UserSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=["rep", "lead", "admin"], default="rep")
    team = VisibleRelatedField(teams_visible_to, model=Team, allow_null=True, required=False)
    password = serializers.CharField(
        write_only=True, style={"input_type": "password"}, trim_whitespace=False
    )

    class Meta:
        model = User
        fields = ["id", "username", "password", "email", "first_name", "last_name", "team", "role"]

    def create(self, validated_data):
        request = self.context["request"]
        return services.create_user(
            **validated_data, by=request.user, address=client_address(request)
        )


class UserFilter(FilterSet):
    class Meta:
        model = User
        fields = ["team"]


@extend_schema_view(
    list=extend_schema(
        description="The active people of your team (an admin sees everyone); filter by `team`."
    ),
    retrieve=extend_schema(description="One person of your team (an admin sees everyone)."),
    create=extend_schema(
        description="Create a rep or a lead (each needs a `team`) or an admin (no team); "
        "admins only. The password is checked against the password rules and never answered."
    ),
)
class UserViewSet(
    IdempotentPostMixin,
    ConditionalMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrReadOnly]
    queryset = User.objects.none()
    filterset_class = UserFilter

    def get_queryset(self):
        return users_visible_to(self.request.user)


# --- accounts ----------------------------------------------------------------------------


class HealthSummarySerializer(serializers.Serializer):
    score = serializers.FloatField()
    band = serializers.ChoiceField(choices=Account.Band.choices)
    confidence = serializers.FloatField()
    computed_at = serializers.DateTimeField()


HEALTH_COLUMNS = ("health_score", "health_band", "health_confidence", "health_computed_at")
ACCOUNT_COLUMNS = (
    "id", "name", "domain", "owner_id", "team_id", "external_id", "created_at", *HEALTH_COLUMNS,
)  # fmt: skip


def accounts_json(rows: list[dict], tz=None) -> list[dict]:
    """An account's JSON, for rows of ``ACCOUNT_COLUMNS``: every answer about accounts.

    ``health`` is the latest health as denormalised on the account, or None
    before the first computation.
    """
    tz = tz or timezone.get_current_timezone()
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "domain": row["domain"],
            "owner": row["owner_id"],
            "team": row["team_id"],
            "external_id": row["external_id"],
            "health": None
            if row["health_computed_at"] is None
            else {
                "score": row["health_score"],
                "band": row["health_band"],
                "confidence": row["health_confidence"],
                "computed_at": iso(row["health_computed_at"], tz),
            },
            "created_at": iso(row["created_at"], tz),
        }
        for row in rows
    ]


class AccountSerializer(RowSerializer):
    """A customer account: the relationship whose trust health is computed."""

    # Validates an account's writes and documents accounts_json, which writes every answer.

    columns = ACCOUNT_COLUMNS
    represent = staticmethod(accounts_json)

    owner = VisibleRelatedField(users_visible_to, model=User, required=False)
    team = VisibleRelatedField(teams_visible_to, model=Team, required=False)
    health = HealthSummarySerializer(read_only=True, allow_null=True)

    class Meta(RowSerializer.Meta):
        model = Account
        fields = ["id", "name", "domain", "owner", "team", "external_id", "health", "created_at"]
        read_only_fields = ["created_at"]
        # external_id is unique in the team, which defaults to the owner's: the
        # service checks it (DRF's validator would make the team required).
        validators: list = []

    def create(self, validated_data):
        owner = validated_data.pop("owner", None) or self.context["request"].user
        return services.create_account(owner=owner, **validated_data)

    def update(self, instance, validated_data):
        return services.update_account(instance, **validated_data)


class AccountFilter(FilterSet):
    band = filters.ChoiceFilter(
        field_name="health_band",
        choices=Account.Band.choices,
    )
    search = filters.CharFilter(method="filter_search", label="Name or domain contains")

    class Meta:
        model = Account
        fields = ["owner", "team", "band"]

    def filter_search(self, queryset, name, value):
        return accounts_matching(queryset, value)


@extend_schema_view(
    list=extend_schema(
        description="The accounts of your team (an admin sees all), newest first, each with "
        "its latest trust health (`null` before the first computation). Filter by `owner`, "
        "`team`, `band` and `search` (name or domain)."
    ),
    retrieve=extend_schema(description="One account of your team, with its latest health."),
    create=extend_schema(
        description="Create an account. The `owner` defaults to you and the `team` to the "
        "owner's; the owner must belong to the team."
    ),
    partial_update=extend_schema(
        description="Change an account's name, domain, owner or team; the owner must belong "
        "to the team."
    ),
    destroy=extend_schema(
        description="Archive an account: it disappears from every list and page, and its "
        "history is kept."
    ),
)
class AccountViewSet(IdempotentPostMixin, ConditionalMixin, RowListMixin, viewsets.ModelViewSet):
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Account.objects.none()

    def get_queryset(self):
        return accounts_visible_to(self.request.user)

    def perform_destroy(self, instance):
        services.archive_account(instance)


# --- contacts ----------------------------------------------------------------------------


CONTACT_COLUMNS = (
    "id", "account_id", "first_name", "last_name", "email", "phone", "title", "external_id",
)  # fmt: skip


def contacts_json(rows: list[dict]) -> list[dict]:
    """A contact's JSON, for rows of ``CONTACT_COLUMNS``: every answer about contacts."""
    return [
        {
            "id": row["id"],
            "account": row["account_id"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "email": row["email"],
            "phone": row["phone"],
            "title": row["title"],
            "external_id": row["external_id"],
        }
        for row in rows
    ]


class ContactSerializer(RowSerializer):
    """A person at a customer account."""

    # Validates a contact's writes and documents contacts_json, which writes every answer.

    columns = CONTACT_COLUMNS
    represent = staticmethod(contacts_json)
    unpatchable = {"account": "A contact cannot move to another account."}

    account = VisibleRelatedField(accounts_visible_to, model=Account)

    class Meta(RowSerializer.Meta):
        model = Contact
        fields = [
            "id",
            "account",
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "external_id",
        ]
        # external_id is unique in the account: the service checks it (DRF's
        # validator would make it required).
        validators: list = []

    def validate_account(self, account):
        if self.instance is not None and account.pk != self.instance.account_id:
            raise serializers.ValidationError(self.unpatchable["account"])
        return account

    def create(self, validated_data):
        return services.create_contact(**validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("account", None)
        return services.update_contact(instance, **validated_data)


class ContactFilter(FilterSet):
    search = filters.CharFilter(method="filter_search", label="Name, e-mail or phone contains")

    class Meta:
        model = Contact
        fields = ["account"]

    def filter_search(self, queryset, name, value):
        return contacts_matching(queryset, value)


@extend_schema_view(
    list=extend_schema(
        description="The contacts at your team's accounts (an admin sees all), newest first. "
        "Filter by `account` and `search` (name, e-mail or phone)."
    ),
    retrieve=extend_schema(description="One contact at one of your team's accounts."),
    create=extend_schema(description="Add a person to an account of your team."),
    partial_update=extend_schema(
        description="Change a contact's name, e-mail, phone or title; a contact stays "
        "at its account."
    ),
    destroy=extend_schema(
        description="Delete a contact. The interactions and promises that named them keep "
        "their history without them."
    ),
)
class ContactViewSet(IdempotentPostMixin, ConditionalMixin, RowListMixin, viewsets.ModelViewSet):
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Contact.objects.none()

    def get_queryset(self):
        return contacts_visible_to(self.request.user)

    def perform_destroy(self, instance):
        services.delete_contact(instance)
