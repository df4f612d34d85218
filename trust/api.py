"""REST endpoints for an account's trust health and its history."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from accounts.selectors import accounts_visible_to
from relcrm.api.conditional import ConditionalMixin
from trust import selectors, services
from trust.models import TrustSnapshot


class ComponentSerializer(serializers.Serializer):
    value = serializers.FloatField(help_text="0..1")
    weight = serializers.FloatField()
    points = serializers.FloatField(help_text="How far it moves the score from the prior.")


class FactSerializer(serializers.Serializer):
    text = serializers.CharField()
    effect = serializers.FloatField(help_text="Its effect on the score, in points.")


class HealthSerializer(serializers.ModelSerializer):
    components = serializers.DictField(child=ComponentSerializer())
    explanation = FactSerializer(many=True)

    class Meta:
        model = TrustSnapshot
        fields = [
            "id",
            "account",
            "score",
            "band",
            "confidence",
            "components",
            "explanation",
            "as_of",
            "computed_at",
        ]


class AccountHealthMixin:
    def get_account(self):
        return get_object_or_404(accounts_visible_to(self.request.user), pk=self.kwargs["pk"])


class AccountHealthView(ConditionalMixin, AccountHealthMixin, generics.GenericAPIView):
    """The account's current trust health, with its components and explanation.

    An account whose health was never computed (a new one) has it computed on the spot.
    """

    serializer_class = HealthSerializer
    queryset = TrustSnapshot.objects.none()
    pagination_class = None
    filter_backends = []

    @extend_schema(responses=HealthSerializer)
    def get(self, request, pk):
        account = self.get_account()
        snapshot = selectors.latest_snapshot(account.pk)
        if snapshot is None:
            # Never computed (a brand-new account): compute it now rather than answer empty.
            services.compute_account_health(account.pk)
            snapshot = selectors.latest_snapshot(account.pk)
        return Response(self.get_serializer(snapshot).data)


class AccountHealthHistoryView(AccountHealthMixin, generics.ListAPIView):
    """Every computed health of the account, newest first."""

    serializer_class = HealthSerializer
    queryset = TrustSnapshot.objects.none()
    filter_backends = []

    def get_queryset(self):
        return selectors.snapshot_history(self.get_account().pk)
