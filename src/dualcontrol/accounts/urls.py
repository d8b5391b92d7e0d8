from django.contrib.auth import views as auth_views
from django.urls import path

from dualcontrol.accounts import password_views, security_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # password change for every user; login locks (dualcontrol.accounts.password_views)
    path("password/", password_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        password_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("security/lockouts/", password_views.lockouts, name="lockouts"),
    path("security/lockouts/<int:pk>/unlock/", password_views.unlock, name="unlock"),
    # second factor and API tokens (dualcontrol.accounts.security_views)
    path("2fa/", security_views.otp_status, name="otp-status"),
    path("2fa/setup/", security_views.otp_setup, name="otp-setup"),
    path("2fa/verify/", security_views.otp_verify, name="otp-verify"),
    path("2fa/users/", security_views.otp_users, name="otp-users"),
    path("2fa/reset/<int:user_id>/", security_views.otp_reset, name="otp-reset"),
    path("tokens/", security_views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", security_views.token_revoke, name="token-revoke"),
]
