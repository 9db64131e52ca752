"""One place that turns errors into API responses: field errors as JSON, never a 500 for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from zhili.core import audit
from zhili.core.importexport import ImportFileError
from zhili.core.permissions import PermissionsViolation


def exception_handler(exc, context):
    response = _handle(exc, context)
    if response is not None and response.status_code in (401, 403):
        # Denied accesses are audited (R-10.3-audit); this runs after the write's transaction
        # rolled back, so the event survives.
        request = context.get("request")
        user = getattr(request, "user", None) if request is not None else None
        audit.emit(
            "access.denied",
            user=user,
            success=False,
            details={
                "path": getattr(request, "path", ""),
                "method": getattr(request, "method", ""),
                "status": response.status_code,
                "reason": "out_of_scope" if isinstance(exc, PermissionsViolation) else type(exc).__name__,
            },
        )
    return response


def _handle(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ImportFileError):
        return Response({"file": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionsViolation):
        return Response(
            {"detail": _("The record would fall outside your data scope; nothing was saved.")},
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": _("The record is still referenced by other records.")}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": _("The record conflicts with an existing one.")}, status=status.HTTP_409_CONFLICT
        )
    return drf_exception_handler(exc, context)
