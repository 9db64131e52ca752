"""Upload checks shared by every app that accepts files (R-10.3-input).

``validate_upload(file, kinds=("image",))`` refuses a file that is too large, whose extension is
not allowed, or whose content does not match its extension (magic bytes are read, the browser's
Content-Type is not trusted). Use it in a form's ``clean_<field>`` or as a field validator::

    photo = forms.FileField(validators=[upload_validator("image", max_bytes=10 * 1024 * 1024)])

Imports (.csv/.xlsx) have their own stricter reader in ``core.importexport``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# kind -> {extension: magic-byte predicates}
SIGNATURES = {
    "image": {
        ".jpg": (lambda b: b.startswith(b"\xff\xd8\xff"),),
        ".jpeg": (lambda b: b.startswith(b"\xff\xd8\xff"),),
        ".png": (lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),),
        ".gif": (lambda b: b[:6] in (b"GIF87a", b"GIF89a"),),
        ".webp": (lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP",),
    },
    "document": {
        ".pdf": (lambda b: b.startswith(b"%PDF-"),),
        ".docx": (lambda b: b.startswith(b"PK\x03\x04"),),
        ".xlsx": (lambda b: b.startswith(b"PK\x03\x04"),),
    },
    "video": {
        ".mp4": (lambda b: b[4:8] == b"ftyp",),
    },
}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def validate_upload(file, kinds=("image",), max_bytes: int | None = None) -> None:
    limit = max_bytes or getattr(settings, "ZHILI_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)
    size = getattr(file, "size", None)
    if size is None or size > limit:
        raise ValidationError(
            _("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}, code="too_large"
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    name = (getattr(file, "name", "") or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    allowed = {ext: checks for kind in kinds for ext, checks in SIGNATURES.get(kind, {}).items()}
    if extension not in allowed:
        raise ValidationError(
            _("Files of this type are not accepted (allowed: %(types)s).")
            % {"types": ", ".join(sorted(allowed))},
            code="type",
        )
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(32)
    file.seek(position)
    if not any(check(head) for check in allowed[extension]):
        raise ValidationError(_("The file's content does not match its type."), code="content")


def upload_validator(*kinds, max_bytes: int | None = None):
    def validator(file):
        validate_upload(file, kinds=kinds or ("image",), max_bytes=max_bytes)

    return validator
