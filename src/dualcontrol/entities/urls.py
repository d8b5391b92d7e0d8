from django.urls import path

from dualcontrol.entities import views

app_name = "entities"
urlpatterns = [path("", views.entity_list, name="list")]
