"""HTTPS to the clinic's server: the certificate CA-verified or pinned; plain HTTP only to loopback.

Pinning compares the SHA-256 of the server certificate's DER with the one stored at enrolment.
It is checked inside the TLS handshake (a socket class of our own, :class:`ssl.SSLContext`'s
documented ``sslsocket_class``), so nothing, not even the token, is sent to a server whose
certificate does not match.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

import httpx

from sync.errors import SyncError

LOOPBACK_NAMES = ("localhost",)


class PinMismatchError(SyncError):
    """The server's certificate is not the one pinned at enrolment: nothing was sent."""


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The server URL without a trailing slash; refuse plain HTTP off loopback and anything not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SyncError(f"server URL {url!r} must look like https://server.clinic:8443")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SyncError(f"refusing plain http:// to {parts.hostname}: patient data travels only over HTTPS "
                        "(plain HTTP is for a server on this same machine)")
    return url.rstrip("/")


def normal_pin(pin: str) -> str:
    """A SHA-256 as 64 hex digits; colons (as `openssl x509 -fingerprint` prints them) and case do not matter."""
    text = pin.replace(":", "").strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise SyncError(f"--pin {pin!r} is not a SHA-256 (64 hex digits): "
                        "openssl x509 -in server.pem -outform der | sha256sum")
    return text


def pinned_context(pin: str) -> ssl.SSLContext:
    """A context that accepts exactly the certificate whose DER hashes to ``pin`` (and nothing else)."""
    pin = normal_pin(pin)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the pin is the whole check: one certificate, byte for byte

    class PinnedSocket(ssl.SSLSocket):
        def do_handshake(self, block=False):
            super().do_handshake(block)
            der = self.getpeercert(binary_form=True) or b""
            seen = hashlib.sha256(der).hexdigest()
            if seen != pin:
                self.close()
                raise ssl.SSLCertVerificationError(
                    f"certificate pin mismatch: the server's certificate has SHA-256 {seen}, the kiosk was "
                    f"enrolled with {pin}; nothing was sent. If the server's certificate was renewed, enrol the "
                    "kiosk again with the new pin")

    ctx.sslsocket_class = PinnedSocket
    return ctx


def ca_context(ca_pem: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cadata=ca_pem)
    except ssl.SSLError as exc:
        raise SyncError(f"the CA certificate is not a PEM certificate ({exc})") from None


def verify_for(ca_pem: str = "", pin: str = "") -> ssl.SSLContext | bool:
    if pin:
        return pinned_context(pin)
    if ca_pem:
        return ca_context(ca_pem)
    return True  # the system's trusted CAs (a server with a public certificate)


def client(url: str, *, token: str = "", ca_pem: str = "", pin: str = "", timeout: float = 30.0,
           version: str = "") -> httpx.Client:
    """An HTTP client bound to the server: keep-alive, the token on every request, TLS as enrolled.

    Every request says which version the kiosk runs (``Gaitkiosk-Version``; ``version``, default
    this program's), so the server's `kiosks` list shows which units lag behind."""
    from gaitkiosk import __version__

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers["Gaitkiosk-Version"] = version or __version__
    return httpx.Client(base_url=check_url(url), headers=headers, verify=verify_for(ca_pem, pin),
                        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)), trust_env=False)


def describe(exc: BaseException) -> str:
    """One line for a transport failure (the pin's own words when that was it)."""
    text = str(exc) or type(exc).__name__
    if "pin mismatch" in text:
        return text[text.index("certificate pin mismatch"):].split(" (_ssl")[0]
    if isinstance(exc, httpx.TimeoutException):
        return f"the server did not answer in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError | socket.gaierror | ConnectionError):
        return f"cannot reach the server: {text}"
    return text


def pin_mismatch(exc: BaseException) -> bool:
    return "certificate pin mismatch" in str(exc)
