from django.urls import path

from dualcontrol.tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("import/", views.plan_import, name="import"),
    path("import/confirm/", views.plan_import_confirm, name="import-confirm"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/matrix/", views.plan_matrix, name="matrix"),
    path("plans/<int:pk>/deadlines/", views.plan_deadlines, name="deadlines"),
    path("department/", views.my_department, name="department"),
    path("department/<int:pk>/", views.department_tasks, name="department-tasks"),
    path("task/<int:pk>/", views.task_detail, name="task"),
    path("task/<int:pk>/progress/", views.task_progress, name="progress"),
    path("task/<int:pk>/edit/", views.task_edit, name="edit"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
    path("warnings/", views.warnings, name="warnings"),
    path("departments/imported/", views.imported_departments, name="imported-departments"),
    path("departments/imported/<int:pk>/", views.resolve_department, name="resolve-department"),
]
