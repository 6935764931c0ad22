"""The REDCap API as a source: records and metadata fetched over HTTPS with a token.

The token is read from an environment variable (``REDCAP_API_TOKEN`` unless the manifest's
``token_env`` names another), never from the command line or a file in the cohort, so it does
not end up in shell history, process lists or the data hash. Requests follow the REDCap API:
``POST`` form fields ``token``, ``content=record`` (``format=csv``, ``type=flat``,
``rawOrLabel=raw``) and ``content=metadata`` (``format=csv``).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT_S = 60.0
MAX_BYTES = 200 * 2**20


class ApiError(Exception):
    """The API could not be used (no token, HTTP error, unreachable); the message says which."""


def _post(url: str, fields: dict[str, str]) -> bytes:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (the user's own server)
            data = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ApiError(f"the REDCap API answered HTTP {exc.code} for content={fields.get('content')}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ApiError(f"cannot reach the REDCap API at {url}: {getattr(exc, 'reason', exc)}") from None
    if len(data) > MAX_BYTES:
        raise ApiError(f"the REDCap API sent more than {MAX_BYTES // 2**20} MB")
    return data


def fetch_export(url: str, token_env: str = "REDCAP_API_TOKEN") -> tuple[bytes, bytes]:
    """``(records CSV, data dictionary CSV)`` from the API at ``url``."""
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise ApiError(f"no REDCap API token: set the environment variable {token_env}")
    if not url.lower().startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ApiError(f"{url} is not an https:// address (the token must not travel in clear text)")
    records = _post(url, {"token": token, "content": "record", "format": "csv", "type": "flat",
                          "rawOrLabel": "raw", "rawOrLabelHeaders": "raw", "exportCheckboxLabel": "false"})
    dictionary = _post(url, {"token": token, "content": "metadata", "format": "csv"})
    return records, dictionary
