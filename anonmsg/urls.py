from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from anonmsg import invitation_views, views

workspace_urls = [
    path("", views.workspace_home, name="workspace-home"),
    path("settings/", views.settings_inapp, name="settings-inapp"),
    path("settings/general/", views.settings_general, name="settings-general"),
    path("settings/toggle/", views.settings_toggle_inapp, name="settings-toggle-inapp"),
    path("settings/origins/", views.settings_origins, name="settings-origins"),
    path("settings/rotate-api-key/", views.settings_rotate_api_key, name="settings-rotate-api-key"),
    path(
        "settings/rotate-write-key/",
        views.settings_rotate_write_key,
        name="settings-rotate-write-key",
    ),
    path("settings/members/", views.settings_members, name="settings-members"),
    path("settings/members/invite/", views.settings_member_invite, name="settings-member-invite"),
    path(
        "settings/members/invitations/<int:invitation_id>/revoke/",
        views.settings_member_invitation_revoke,
        name="settings-member-invitation-revoke",
    ),
    path(
        "settings/members/<int:member_id>/role/",
        views.settings_member_role,
        name="settings-member-role",
    ),
    path(
        "settings/members/<int:member_id>/remove/",
        views.settings_member_remove,
        name="settings-member-remove",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", views.login, name="login"),
    path("invitations/<str:token>/", invitation_views.invitation, name="invitation"),
    path(
        "invitations/<str:token>/accept/",
        invitation_views.invitation_accept,
        name="invitation-accept",
    ),
    path(
        "invitations/<str:token>/sign-up/",
        invitation_views.invitation_sign_up,
        name="invitation-sign-up",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("w/<int:workspace_id>/", include(workspace_urls)),
    path("w/<int:workspace_id>/", include("campaigns.urls")),
    path("w/<int:workspace_id>/", include("delivery.urls")),
    path("w/<int:workspace_id>/", include("metrics.urls")),
    path("", include("anonmsg.api_urls")),
    path("", include("campaigns.api_urls")),
    path("", include("delivery.api_urls")),
    path("", include("metrics.api_urls")),
]

handler400 = "anonmsg.errors.bad_request"
handler403 = "anonmsg.errors.permission_denied"
handler404 = "anonmsg.errors.page_not_found"
handler500 = "anonmsg.errors.server_error"
