"""Whether the configured Prefect server lets this process in, asked before a run changes anything.

With PREFECT_API_URL unset the flow runs on Prefect's ephemeral API and there is nothing to ask. A
server started with PREFECT_SERVER_API_AUTH_STRING answers 401 to a client without the same
PREFECT_API_AUTH_STRING; Prefect's own error for it surfaces deep inside the flow's start, as a
traceback. One request to its /hello endpoint (which, unlike /health, needs the auth string) turns
that, and an unreachable server, into one line naming the server and the setting to check.
"""

from __future__ import annotations

from components.core.errors import StageError, redact


def check_prefect_access() -> None:
    """Raise StageError when the Prefect server in PREFECT_API_URL refuses the auth string or cannot be reached."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    url = redact(PREFECT_API_URL.value() or "")
    if not url:
        return
    try:
        with get_client(sync_client=True) as client:
            client.hello()
    except httpx.HTTPStatusError as err:
        if err.response.status_code == 401:
            raise StageError(
                f"Prefect server {url} refused the auth string (401): set PREFECT_API_AUTH_STRING to "
                f"the server's PREFECT_SERVER_API_AUTH_STRING (user:password)"
            ) from err
        raise StageError(f"Prefect server {url} answered {err.response.status_code}: check PREFECT_API_URL") from err
    except httpx.HTTPError as err:
        raise StageError(
            f"Prefect server {url} is unreachable ({type(err).__name__}): check that it runs and PREFECT_API_URL"
        ) from err
