from django.urls import path

from dualcontrol.rights import views

app_name = "rights"
urlpatterns = [
    path("", views.home, name="home"),
    path("holders/<int:pk>/", views.holder, name="holder"),
    path("energy/", views.energy, name="energy"),
    path("emissions/", views.emissions, name="emissions"),
    path("certificates/", views.certificates, name="certificates"),
    path("credits/", views.credits, name="credits"),
    path("market/", views.market, name="market"),
    path("public/", views.public, name="public"),
]
