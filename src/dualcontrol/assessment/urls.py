from django.urls import path

from dualcontrol.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.round_list, name="list"),
    path("new/", views.round_new, name="new"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/sign-off/", views.round_sign_off, name="round-sign-off"),
    path("rounds/<int:pk>/compute/", views.round_compute, name="round-compute"),
    path("records/<int:pk>/", views.record_detail, name="record"),
    path("records/<int:pk>/self/", views.record_self, name="record-self"),
    path("records/<int:pk>/evidence/", views.record_evidence, name="record-evidence"),
    path("records/<int:pk>/submit/", views.record_submit, name="record-submit"),
    path("records/<int:pk>/score/", views.record_score, name="record-score"),
    path("records/<int:pk>/compute/", views.record_compute, name="record-compute"),
    path("records/<int:pk>/certify/", views.record_certify, name="record-certify"),
    path("records/<int:pk>/sign-off/", views.record_sign_off, name="record-sign-off"),
    path("records/<int:pk>/reopen/", views.record_reopen, name="record-reopen"),
    path("records/<int:pk>/interview/", views.record_interview, name="record-interview"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("consequences/", views.consequence_list, name="consequences"),
    path("consequences/<int:pk>/", views.consequence_detail, name="consequence"),
    path("consequences/<int:pk>/respond/", views.consequence_respond, name="consequence-respond"),
    path("consequences/<int:pk>/close/", views.consequence_close, name="consequence-close"),
    path("consequences/<int:pk>/file/", views.consequence_file, name="consequence-file"),
    path("credit/", views.credit_list, name="credit"),
    path("sheets/", views.sheet_list, name="sheets"),
]
