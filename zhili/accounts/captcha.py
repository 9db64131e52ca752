"""Offline image captcha (no external service): a PNG drawn with Pillow, answer kept in the session.

Shown after the first failed sign-ins (R-10.3-ident). The answer is case-insensitive, single use,
and expires with the image.
"""

import hmac
import io
import secrets
import time

from PIL import Image, ImageDraw, ImageFilter, ImageFont

# No 0/O, 1/I/L: a person must be able to read it.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SESSION_KEY = "zhili_captcha"
LIFETIME_SECONDS = 300


def new_challenge(session, length: int = 5) -> str:
    text = "".join(secrets.choice(ALPHABET) for _ in range(length))
    session[SESSION_KEY] = {"answer": text, "at": time.time()}
    return text


def check(session, answer: str) -> bool:
    """Compare and forget the challenge (one try per image)."""
    data = session.pop(SESSION_KEY, None)
    if not data or time.time() - data.get("at", 0) > LIFETIME_SECONDS:
        return False
    return hmac.compare_digest(data["answer"].upper(), (answer or "").strip().upper())


def render_png(text: str) -> bytes:
    width, height = 150, 50
    rng = secrets.SystemRandom()
    image = Image.new("RGB", (width, height), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        draw.line(
            [(rng.randint(0, width), rng.randint(0, height)) for _ in range(2)],
            fill=(rng.randint(120, 200),) * 3,
            width=1,
        )
    try:
        font = ImageFont.load_default(size=30)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    x = 10
    for char in text:
        glyph = Image.new("RGBA", (34, 44), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (4, 2), char, font=font, fill=(rng.randint(0, 90), rng.randint(0, 90), rng.randint(90, 160))
        )
        glyph = glyph.rotate(rng.uniform(-25, 25), resample=Image.BICUBIC, expand=False)
        image.paste(glyph, (x, rng.randint(0, 8)), glyph)
        x += 26
    for _ in range(120):
        draw.point((rng.randint(0, width - 1), rng.randint(0, height - 1)), fill=(90, 90, 90))
    image = image.filter(ImageFilter.SMOOTH)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
