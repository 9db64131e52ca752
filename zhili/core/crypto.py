"""Encryption at rest of sensitive fields (R-10.3-crypto).

Every ``SensitiveCharField`` value (ID numbers, phones, addresses, and the fields later apps
declare) is stored as ``$<cipher><key id>$<base64url>``:

* ``sm4`` (default, GB/T 32907): an SIV construction — the synthetic IV is
  ``HMAC-SM3(mac key, plaintext)[:16]``, the ciphertext is ``SM4-CTR(enc key, IV, plaintext)``,
  and decryption recomputes the HMAC and compares it in constant time, so the value is
  authenticated (any change is detected) — deterministic authenticated encryption.
* ``aes-siv``: AES-256-SIV (RFC 5297) from ``cryptography``, the same properties with AES.

Determinism is deliberate: the stored value doubles as the keyed hash (HMAC-SM3) of the
plaintext, so ``Resident.objects.filter(id_number=x)``, ``unique=True``, import natural keys
and global search by full ID number keep working unchanged through custom lookups — at the
price, inherent to any keyed-hash lookup column, that equal values are recognisable as equal.

Keys live outside the database: ``ZHILI_FIELD_KEYS`` (JSON ``{"current": id, "keys": {id:
base64}}``), or ``ZHILI_FIELD_KEY`` (one base64 key), or the file ``field-keys.json`` in the data
folder (mode 0600, generated at first use). ``zhili keys rotate`` adds a key and re-encrypts.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

logger = logging.getLogger("zhili.crypto")

PREFIX = "$"
CIPHER_CODES = {"sm4": "s", "aes-siv": "a"}
CODE_CIPHERS = {v: k for k, v in CIPHER_CODES.items()}
TOKEN_RE = re.compile(r"^\$([sa])([A-Za-z0-9]{1,8})\$([A-Za-z0-9_-]+)$")
UNREADABLE = "⚠密文无法解密"


class KeyRing:
    def __init__(self, current: str, keys: dict[str, bytes], cipher: str):
        if current not in keys:
            raise ValueError(f"current field key {current!r} is not in the key ring")
        if cipher not in CIPHER_CODES:
            raise ValueError(f"unknown field cipher {cipher!r} (sm4 or aes-siv)")
        self.current = current
        self.keys = keys
        self.cipher = cipher
        self._derived = {}

    def derived(self, kid: str, cipher: str):
        key = (kid, cipher)
        if key not in self._derived:
            master = self.keys[kid]
            if cipher == "sm4":
                enc = hmac.new(master, b"zhili-field-enc", "sm3").digest()[:16]
                mac = hmac.new(master, b"zhili-field-mac", "sm3").digest()
                self._derived[key] = _Sm4Siv(enc, mac)
            else:
                material = hashlib.sha512(b"zhili-field-aes-siv" + master).digest()
                self._derived[key] = AESSIV(material)
        return self._derived[key]


def key_file() -> Path:
    from django.conf import settings

    configured = settings.ZHILI.get("FIELD_KEY_FILE")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "field-keys.json"


def _cipher_setting() -> str:
    from django.conf import settings

    return os.environ.get("ZHILI_FIELD_CIPHER") or settings.ZHILI.get("FIELD_CIPHER", "sm4")


def load_keyring() -> KeyRing:
    cipher = _cipher_setting()
    if os.environ.get("ZHILI_FIELD_KEYS"):
        data = json.loads(os.environ["ZHILI_FIELD_KEYS"])
        return KeyRing(data["current"], {k: base64.b64decode(v) for k, v in data["keys"].items()}, cipher)
    if os.environ.get("ZHILI_FIELD_KEY"):
        return KeyRing("e1", {"e1": base64.b64decode(os.environ["ZHILI_FIELD_KEY"])}, cipher)
    path = key_file()
    if not path.exists():
        write_key_file(path, {"current": "k1", "keys": {"k1": new_key()}})
    data = json.loads(path.read_text())
    return KeyRing(data["current"], {k: base64.b64decode(v) for k, v in data["keys"].items()}, cipher)


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def write_key_file(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


_ring: KeyRing | None = None


def keyring() -> KeyRing:
    global _ring
    if _ring is None:
        _ring = load_keyring()
    return _ring


def reset_keyring() -> None:
    """Forget the loaded keys (after rotation or a settings change in tests)."""
    global _ring
    _ring = None
    _encrypt.cache_clear()
    _decrypt.cache_clear()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Sm4Siv:
    """SM4 SIV primitives with per-key state prepared once: HMAC-SM3 from copied inner/outer
    hash states, and SM4-CTR as SM4-ECB over the counter blocks (identical output to
    ``modes.CTR``) with one ECB context per thread — a few microseconds a value, which keeps
    bulk imports fast."""

    def __init__(self, enc: bytes, mac: bytes):
        self.enc = enc
        key = mac.ljust(64, b"\0") if len(mac) <= 64 else hashlib.new("sm3", mac).digest().ljust(64, b"\0")
        self._inner = hashlib.new("sm3", bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.new("sm3", bytes(b ^ 0x5C for b in key))
        self._local = threading.local()

    def mac(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def _ecb(self):
        """This thread's SM4-ECB context: CTR's key stream is ECB over the counter blocks."""
        ecb = getattr(self._local, "ecb", None)
        if ecb is None:
            ecb = self._local.ecb = Cipher(algorithms.SM4(self.enc), modes.ECB()).encryptor()
        return ecb

    def ctr(self, iv: bytes, data: bytes) -> bytes:
        stream = self._ecb().update(_counter_blocks(iv, (len(data) + 15) >> 4))[: len(data)]
        return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")

    def seal_many(self, datas: list[bytes]) -> list[bytes]:
        """``siv + ctr(siv, data)`` of every value, with one SM4 call and one XOR for them all.

        Each value's counter blocks and its plaintext, zero-padded to whole blocks, are laid
        end to end, so the key stream of the lot comes from one ECB call and is applied as one
        big-integer XOR; each ciphertext is then the unpadded slice of its value. This saves
        about 40% of the per-value cost of ``ctr`` (which pays a call into OpenSSL per value).
        """
        mac = self.mac
        sivs = [mac(data)[:16] for data in datas]
        blocks, padded = [], []
        for siv, data in zip(sivs, datas, strict=True):
            count = (len(data) + 15) >> 4
            blocks.append(_counter_blocks(siv, count))
            padded.append(data.ljust(count << 4, b"\0"))
        plain = b"".join(padded)
        if not plain:
            return sivs
        stream = self._ecb().update(b"".join(blocks))
        sealed = (int.from_bytes(plain, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(plain), "big")
        out, offset = [], 0
        for siv, data in zip(sivs, datas, strict=True):
            out.append(siv + sealed[offset : offset + len(data)])
            offset += ((len(data) + 15) >> 4) << 4
        return out


def _counter_blocks(iv: bytes, count: int) -> bytes:
    """The CTR counter blocks of a value of ``count`` blocks: the IV, then IV + 1, … (mod 2^128)."""
    if count <= 1:
        return iv
    counter = int.from_bytes(iv, "big")
    if count == 2:
        return iv + ((counter + 1) & _MASK128).to_bytes(16, "big")
    return iv + b"".join(((counter + i) & _MASK128).to_bytes(16, "big") for i in range(1, count))


_MASK128 = (1 << 128) - 1


def _sealer(kid: str, cipher: str):
    """Return ``(head, seal, seal_many)``: the token's prefix, a function from plaintext bytes
    to its body, and one from a list of plaintexts to their bodies."""
    derived = keyring().derived(kid, cipher)
    if cipher == "sm4":
        mac, ctr = derived.mac, derived.ctr

        def seal(data: bytes) -> bytes:
            siv = mac(data)[:16]
            return siv + ctr(siv, data)

        seal_many = derived.seal_many
    else:

        def seal(data: bytes) -> bytes:
            return derived.encrypt(data, None)

        def seal_many(datas: list[bytes]) -> list[bytes]:
            return [derived.encrypt(data, None) for data in datas]

    return f"{PREFIX}{CIPHER_CODES[cipher]}{kid}{PREFIX}", seal, seal_many


@lru_cache(maxsize=200_000)
def _encrypt(plaintext: str, kid: str, cipher: str) -> str:
    head, seal, _many = _sealer(kid, cipher)
    return head + _b64(seal(plaintext.encode()))


class BulkEncryptor:
    """Encrypts many values with the current key (bulk inserts): ``encryptor(value)`` one value,
    ``encryptor.many(values)`` a list of them in one batch (much cheaper per value with SM4).

    ``encrypt`` memoises up to 200,000 values for lookups; an import of new values would fill
    that memo (tens of megabytes kept in the worker) and pay for each entry. This binds the key
    once and memoises only within itself, and it lives as long as one bulk write, so a value
    repeated in it (an address) is still encrypted once. Empty values stay empty.
    """

    MEMO_SIZE = 10_000

    def __init__(self):
        ring = keyring()
        self.head, _seal, self._seal_many = _sealer(ring.current, ring.cipher)
        self._done: dict[str, str] = {}

    def __call__(self, plaintext: str) -> str:
        """One value (a convenience: bulk writes call ``many``, which is the fast path)."""
        return self.many([plaintext])[0]

    def many(self, plaintexts: list[str]) -> list[str]:
        done = self._done
        if len(done) + len(plaintexts) > self.MEMO_SIZE:
            done.clear()
        missing = list(dict.fromkeys(p for p in plaintexts if p and p not in done))
        if missing:
            head = self.head
            for plaintext, body in zip(missing, self._seal_many([p.encode() for p in missing]), strict=True):
                done[plaintext] = head + _b64(body)
        return [done[p] if p else p for p in plaintexts]


def bulk_encryptor() -> BulkEncryptor:
    """Return an encryptor for the values of one bulk write (see ``BulkEncryptor``)."""
    return BulkEncryptor()


@lru_cache(maxsize=200_000)
def _decrypt(token: str) -> str:
    match = TOKEN_RE.match(token)
    if match is None:
        return token
    code, kid, body = match.groups()
    ring = keyring()
    cipher = CODE_CIPHERS[code]
    if kid not in ring.keys:
        raise KeyError(f"field key {kid!r} is not in the key ring")
    raw = _unb64(body)
    if cipher == "sm4":
        sm4 = ring.derived(kid, cipher)
        siv, ct = raw[:16], raw[16:]
        if len(siv) != 16:
            raise ValueError("truncated value")
        data = sm4.ctr(siv, ct)
        if not hmac.compare_digest(sm4.mac(data)[:16], siv):
            raise ValueError("authentication failed")
        return data.decode()
    return ring.derived(kid, cipher).decrypt(raw, None).decode()


def encrypt(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the current key (empty stays empty)."""
    if not plaintext:
        return plaintext
    ring = keyring()
    return _encrypt(plaintext, ring.current, ring.cipher)


def encrypt_all_keys(plaintext: str) -> list[str]:
    """The stored forms of ``plaintext`` under every key in the ring (for lookups during rotation)."""
    if not plaintext:
        return [plaintext]
    ring = keyring()
    forms = [_encrypt(plaintext, ring.current, ring.cipher)]
    for kid in ring.keys:
        for cipher in CIPHER_CODES:
            token = _encrypt(plaintext, kid, cipher)
            if token not in forms:
                forms.append(token)
    return forms


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX) and TOKEN_RE.match(value) is not None


def key_id(value: str) -> str | None:
    match = TOKEN_RE.match(value) if isinstance(value, str) else None
    return f"{match.group(1)}{match.group(2)}" if match else None


def decrypt(value):
    """Return the plaintext of a stored value; values stored before encryption pass unchanged."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return value
    try:
        return _decrypt(value)
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        logger.error("sensitive value cannot be decrypted (%s): tampered, or its key is missing", exc)
        return UNREADABLE
