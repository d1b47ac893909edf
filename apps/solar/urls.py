from django.urls import path

from . import views

app_name = "solar"

urlpatterns = [
    path("", views.market, name="market"),
    path("slots/<id:pk>/", views.slot_detail, name="slot"),
    path("slots/<id:pk>/cancel/", views.slot_cancel, name="slot-cancel"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order-create"),
    path("orders/<id:pk>/change/", views.order_change, name="order-change"),
    path("orders/<id:pk>/cancel/", views.order_cancel, name="order-cancel"),
    path("standing/new/", views.standing_create, name="standing-create"),
    path("standing/<id:pk>/<slug:action>/", views.standing_step, name="standing-step"),
    path("meters/", views.meter_list, name="meters"),
    path("meters/new/", views.meter_create, name="meter-create"),
    path("meters/<id:pk>/", views.meter_detail, name="meter"),
    path("meters/<id:pk>/retire/", views.meter_retire, name="meter-retire"),
    path("meters/<id:pk>/readings/", views.reading_create, name="reading-create"),
    path("meters/<id:pk>/upload/", views.reading_upload, name="reading-upload"),
    path("meters/<id:pk>/tokens/", views.token_create, name="token-create"),
    path("meters/<id:pk>/tokens/<id:token_pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("trades/", views.trade_list, name="trades"),
]
