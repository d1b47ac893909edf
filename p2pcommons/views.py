"""Project-level views."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def media(request: HttpRequest, path: str):
    """Uploaded files, when Django serves them itself (``SERVE_MEDIA``): from the
    ``MEDIA_ROOT`` of the moment, so a changed setting (a test's folder) is honored."""
    from django.conf import settings
    from django.views.static import serve

    return serve(request, path, document_root=settings.MEDIA_ROOT)
