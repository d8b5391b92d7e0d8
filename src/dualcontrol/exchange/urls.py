from django.urls import path

from dualcontrol.exchange import views

app_name = "exchange"
urlpatterns = [path("", views.log, name="log")]
