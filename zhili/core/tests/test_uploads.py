"""Upload checks: size, extension allow-list, content sniffing (R-10.3-input)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from zhili.core.uploads import upload_validator, validate_upload

pytestmark = pytest.mark.req("R-10.3-input")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def test_a_real_png_passes():
    validate_upload(SimpleUploadedFile("photo.PNG", PNG))


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("photo.png", b"<script>alert(1)</script>", "content"),  # HTML disguised as an image
        ("shell.php", PNG, "type"),
        ("page.html", b"<html>", "type"),
        ("noext", PNG, "type"),
        ("empty.png", b"", "empty"),
    ],
)
def test_refused_uploads(name, content, code):
    with pytest.raises(ValidationError) as info:
        validate_upload(SimpleUploadedFile(name, content))
    assert info.value.code == code


def test_size_limit():
    with pytest.raises(ValidationError) as info:
        upload_validator("image", max_bytes=1024 * 1024)(
            SimpleUploadedFile("big.png", PNG + b"\x00" * 1024 * 1024)
        )
    assert info.value.code == "too_large"


def test_documents_are_a_separate_kind():
    pdf = SimpleUploadedFile("report.pdf", b"%PDF-1.7\n" + b"x" * 20)
    validate_upload(pdf, kinds=("document",))
    with pytest.raises(ValidationError):
        validate_upload(pdf, kinds=("image",))
