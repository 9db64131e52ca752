"""Masking of sensitive values for display (R-10.3-rbac field level).

``330102199001011234`` → ``330102********1234``; ``13812345678`` → ``138****5678``.
"""

from zhili.core.fields import SensitiveCharField


def mask_id_number(value: str) -> str:
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str) -> str:
    keep = min(6, max(len(value) // 3, 1))
    return value[:keep] + "****"


def mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 1)


def mask_default(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    return value[:1] + "*" * (len(value) - 2) + value[-1:]


MASKS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "address": mask_address,
    "name": mask_name,
    "default": mask_default,
}


def mask_value(field, value):
    """Return ``value`` masked by the rule of ``field`` (unchanged when not sensitive or empty)."""
    if not value or not is_sensitive(field):
        return value
    return MASKS.get(getattr(field, "mask", "default"), mask_default)(str(value))


def is_sensitive(field) -> bool:
    return isinstance(field, SensitiveCharField) or getattr(field, "is_sensitive", False)


def sensitive_fields(model) -> list:
    """Return the model's fields that hold personal data."""
    return [f for f in model._meta.concrete_fields if is_sensitive(f)]
