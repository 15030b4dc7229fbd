"""Huawei Cloud ``SDK-HMAC-SHA256`` request signing, as a pure function.

The algorithm is the one of ``huaweicloudsdkcore.signer.signer.Signer`` (the tests
check byte-identical output over generated requests). Both the synchronous
(requests) and the asynchronous (httpcore) paths of the hook call :func:`sign`, and
the emulator calls it to verify what it receives.

Two quirks of the reference are kept on purpose: the canonical path always ends
in ``/``, and the whole path is percent-decoded before it is split into
segments, so an encoded ``/`` inside a name signs like a real one. Callers must
therefore reject ``/`` in path values instead of encoding it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def sdk_date(now: datetime | None = None) -> str:
    """Return the ``X-Sdk-Date`` value for ``now`` (default: the current UTC time)."""
    return (now or datetime.now(UTC)).strftime(DATE_FORMAT)


@functools.lru_cache(maxsize=1024)  # a poll signs the same names and values again and again
def _encode(value: str) -> str:
    return quote(value, safe="~")


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def canonical_query(query: Iterable[tuple[str, object]]) -> str:
    """Return the sorted, percent-encoded query string that is both signed and sent.

    :param query: ``(name, value)`` pairs; repeated names and empty values are kept.
    """
    pairs = sorted((name, _query_value(value)) for name, value in query)
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in pairs)


def canonical_path(path: str) -> str:
    """Return the canonical URI of an (already percent-encoded) request path."""
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Return the lower-cased names the reference signs: every header without ``_``."""
    return sorted(name.lower() for name in headers if "_" not in name)


def sign(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, object]],
    headers: Mapping[str, str],
    body: bytes,
    ak: str,
    sk: str,
) -> str:
    """Return the ``Authorization`` header value for one request.

    :param method: HTTP method.
    :param path: the request path exactly as sent (percent-encoded).
    :param query: query ``(name, value)`` pairs; send them as :func:`canonical_query` gives.
    :param headers: the headers to sign; they must include ``Host`` and ``X-Sdk-Date``.
    :param body: the request body as sent (``b""`` for none).
    :param ak: access key id.
    :param sk: secret access key; used only as the HMAC key, never returned.
    """
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    names = signed_header_names(headers)
    payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_BODY_SHA256
    canonical_request = "\n".join(
        [
            method.upper(),
            canonical_path(path),
            canonical_query(query),
            "".join(f"{name}:{lowered[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, lowered["x-sdk-date"], hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signature = hmac.new(sk.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Access={ak}, SignedHeaders={';'.join(names)}, Signature={signature}"
