"""factory_boy factories for every model; each builds a consistent team-scoped row."""

import functools
from datetime import datetime, timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Account, Contact, Team, User
from interactions.models import Interaction
from promises.models import Alert, Promise, PromiseEvent

PASSWORD = "correct-horse-battery"


@functools.cache
def _hashed(password: str) -> str:
    """Hash each test password once: the production hasher costs ~0.4 s a call."""
    return make_password(password)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    team = factory.SubFactory(TeamFactory)
    team_role = User.Role.REP

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.password = _hashed(extracted or PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class LeadFactory(UserFactory):
    team_role = User.Role.LEAD


class AdminFactory(UserFactory):
    team = None  # type: ignore[assignment]  # an admin belongs to no team
    is_superuser = True
    is_staff = True


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    domain = factory.Faker("domain_name")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda a: a.owner.team)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Faker("email")
    phone = factory.Faker("phone_number")
    title = factory.Faker("job")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    account = factory.SubFactory(AccountFactory)
    kind = Interaction.Kind.CALL
    direction = Interaction.Direction.OUTBOUND
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    summary = factory.Faker("sentence")
    sentiment = 1
    logged_by = factory.LazyAttribute(lambda i: i.account.owner)


def _made_by_then(promise) -> datetime:
    """Now, or the promise's earliest outcome if it is given one: nothing precedes its making."""
    moments = [promise.kept_at, promise.broken_at, promise.released_at]
    return min([timezone.now(), *(moment for moment in moments if moment is not None)])


class PromiseFactory(factory.django.DjangoModelFactory):
    """An open promise due in three days, with its ``created`` event."""

    class Meta:
        model = Promise
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    owner = factory.LazyAttribute(lambda p: p.account.owner)
    description = factory.Faker("sentence")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    kept_at = None
    broken_at = None
    released_at = None
    created_at = factory.LazyAttribute(_made_by_then)

    @factory.post_generation
    def created_event(obj, create, extracted, **kwargs):
        if create:
            PromiseEvent.objects.create(
                promise=obj, kind=PromiseEvent.Kind.CREATED, by=obj.owner, new_due_at=obj.due_at
            )


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = Alert.Kind.HEALTH_DROP
    account = factory.SubFactory(AccountFactory)
