"""Test helpers: sign in through the real form (captcha included), and a software WebAuthn key."""

import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from zhili.accounts.captcha import SESSION_KEY


def solve_captcha(client) -> str:
    """Load the picture (as a browser does) and read the answer from the server-side session."""
    assert client.get("/accounts/login/captcha.png").status_code == 200
    return client.session[SESSION_KEY]["answer"]


def post_login(client, username, password, *, next_url="", captcha=None, **extra):
    data = {"username": username, "password": password, "next": next_url}
    if captcha is None:  # solve it as a person would (harmless when none is asked)
        captcha = solve_captcha(client)
    if captcha:
        data["captcha"] = captcha
    return client.post("/accounts/login/", data, **extra)


class SoftAuthenticator:
    """A FIDO2 authenticator in software (P-256, "none" attestation), for server verification tests."""

    def __init__(self, rp_id="testserver", origin="http://testserver"):
        self.rp_id, self.origin = rp_id, origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    def _client_data(self, kind, challenge_b64):
        return json.dumps(
            {"type": kind, "challenge": challenge_b64, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict) -> dict:
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([0x41])  # user present + attested credential data
            + struct.pack(">I", self.counter)
            + bytes(16)  # AAGUID
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cose
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        cid = bytes_to_base64url(self.credential_id)
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
            },
            "clientExtensionResults": {},
        }

    def get(self, options: dict) -> dict:
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        assert bytes_to_base64url(self.credential_id) in allowed
        self.counter += 1
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest() + bytes([0x01]) + struct.pack(">I", self.counter)
        )
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        cid = bytes_to_base64url(self.credential_id)
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
            },
            "clientExtensionResults": {},
        }


__all__ = ["SoftAuthenticator", "base64url_to_bytes", "post_login", "solve_captcha"]
