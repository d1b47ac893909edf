"""OpenAPI description of the app-token authentication (allauth headless)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class XSessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication"
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": (
                "Log in with POST /_allauth/app/v1/auth/login and send the returned meta.session_token in this header."
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """A refused request: why, and for rule violations a machine-readable code."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


FIELD_ERRORS = OpenApiResponse(
    response={
        "type": "object",
        "additionalProperties": {
            "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
        },
    },
    description=(
        "Bad input: a list of messages for each offending field (or `non_field_errors`); "
        "a body that is not valid JSON at all gets `detail`."
    ),
)
NOT_FOUND = OpenApiResponse(response=ErrorSerializer, description="No such object.")
RULE_VIOLATION = OpenApiResponse(response=ErrorSerializer, description="A business rule refuses it (see `code`).")
