"""The admin's "view on site" shortcut, answering only about objects the staff member may see."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from .params import parse_id


def view_on_site(request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
    """Redirect to an object's page, as Django's ``/admin/r/<type>/<id>/`` does, but only
    for an object the staff member can open in this admin (the model is registered and
    the object is in that model admin's queryset, which is scoped to an organizer's own
    communities). Anything else is a 404, so the shortcut confirms nothing about other
    communities' rows, or about models the admin does not show at all.
    """
    type_id = parse_id(content_type_id)
    if type_id is None:
        raise Http404
    try:
        model = ContentType.objects.get_for_id(type_id).model_class()
    except ContentType.DoesNotExist:
        raise Http404 from None
    if model is None or not admin.site.is_registered(model):
        raise Http404
    model_admin = admin.site.get_model_admin(model)
    raw_id = unquote(object_id)
    if isinstance(model._meta.pk, models.AutoField | models.BigAutoField) and parse_id(raw_id) is None:
        raise Http404
    obj = model_admin.get_object(request, raw_id)
    if obj is None or not model_admin.has_view_permission(request, obj):
        raise Http404
    return shortcut(request, type_id, raw_id)
