"""factory_boy factories shared by every test folder."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from anonmsg.models import Membership, Plan, Role, Workspace
from campaigns.models import AnonymousMessage, PageRule, Segment, Status
from delivery.models import Event, Profile, Visitor, VisitorMessageState

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    plan = Plan.PREMIUM


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.ADMIN


class AnonymousMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnonymousMessage

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Message {n}")
    content_html = '<h1>Hello</h1><button data-action="signup">Sign up</button>'
    status = Status.DRAFT

    class Params:
        launched = factory.Trait(
            status=Status.LAUNCHED, launched_at=factory.LazyFunction(timezone.now)
        )


class PageRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PageRule

    message = factory.SubFactory(AnonymousMessageFactory)
    platform = "web"
    operator = "is"
    value = "/pricing"


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    conditions = factory.LazyFunction(
        lambda: [{"trait": "plan", "operator": "equals", "value": "pro"}]
    )


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    workspace = factory.SubFactory(WorkspaceFactory)
    user_id = factory.Sequence(lambda n: f"user-{n}")
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class VisitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visitor

    workspace = factory.SubFactory(WorkspaceFactory)
    anonymous_id = factory.Faker("uuid4")
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class VisitorMessageStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitorMessageState

    visitor = factory.SubFactory(VisitorFactory)
    message = factory.SubFactory(
        AnonymousMessageFactory, workspace=factory.SelfAttribute("..visitor.workspace")
    )


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    workspace = factory.SubFactory(WorkspaceFactory)
    message_id = factory.Faker("uuid4")
    type = "track"
    name = "Signed Up"
    anonymous_id = factory.Faker("uuid4")
    timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(
        lambda o: {"type": o.type, "event": o.name, "anonymousId": o.anonymous_id}
    )


class MessageEventFactory(EventFactory):
    """A `Report Content Event` track about a message, with the columns the tracking API
    extracts (content_id, action_type, action_name). Defaults to a view."""

    message = None  # pass message=<AnonymousMessage>: sets workspace and content_id
    workspace = factory.LazyAttribute(lambda o: o.message.workspace)
    name = "Report Content Event"
    content_id = factory.LazyAttribute(lambda o: o.message.pk)
    action_type = "viewed_content"
    action_name = ""
    payload = factory.LazyAttribute(
        lambda o: {
            "type": "track",
            "event": o.name,
            "anonymousId": o.anonymous_id,
            "properties": {
                "actionType": o.action_type,
                "contentId": o.content_id,
                "contentType": "in_app_content",
                **({"actionName": o.action_name} if o.action_name else {}),
            },
        }
    )

    class Meta:
        exclude = ["message"]
        skip_postgeneration_save = True

    class Params:
        click = factory.Trait(action_type="clicked_content", action_name="signup")
        dismiss = factory.Trait(action_type="dismissed_content")

    @factory.post_generation
    def visitor(obj, create, extracted, **kwargs):
        """Like the tracking API: every recorded anonymous id has its visitor."""
        if create and obj.anonymous_id:
            Visitor.objects.get_or_create(
                workspace_id=obj.workspace_id,
                anonymous_id=obj.anonymous_id,
                defaults={"first_seen_at": obj.timestamp, "last_seen_at": obj.timestamp},
            )
