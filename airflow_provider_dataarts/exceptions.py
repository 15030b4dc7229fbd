"""The one exception type every failed DataArts call surfaces as."""

from __future__ import annotations

from airflow_provider_dataarts._compat import AirflowException, AirflowFailException

# Airflow retries a task that raises an ordinary exception and fails it at once on an
# AirflowFailException. Bad input and answers saying the request itself is wrong are of the second
# kind: a retry would only fail again, minutes later.
#
# Answers that trying again cannot change: a malformed request, refused credentials, no permission,
# an unknown job, rule or task. 429 and 5xx are outages and stay retryable.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404})

_HINTS = {
    (401, "iam"): "check the IAM user name, password and extra.domain_name of the connection",
    (401, None): (
        "check the connection's AK/SK (or token), that this machine's clock is right "
        "(a signature is refused 15 minutes off), and its project_id"
    ),
}


class DataArtsInputError(AirflowFailException, ValueError):
    """Bad input: an argument, a rendered template or the connection breaks a rule.

    The message names the field and the rule. It is a ``ValueError``, and an
    ``AirflowFailException`` so that the task fails once instead of retrying a typo.
    """


class DataArtsApiError(AirflowException):
    """A DataArts / CodeArts call failed: an HTTP error answer, or no answer at all.

    :param service: ``quality``, ``factory``, ``check`` or ``iam``.
    :param method: HTTP method of the call.
    :param path: request path of the call (ids only, never credentials).
    :param status: HTTP status, or ``None`` when no answer arrived (connection
        refused, dropped, timed out).
    :param error_code: the service's ``error_code`` (``DLF.0100``, ``DQC...``), if any.
    :param error_msg: the service's ``error_msg``, or a description of the failure.
    :param retry_after: seconds the server asked to wait (``Retry-After``), if any.
    :param reached_server: ``False`` only when the request provably never reached
        the server (connection refused or connect timeout), so even a call that
        starts something may be sent again.
    :param transient: ``False`` for a failure without an answer that trying again cannot
        fix, such as a server certificate that does not verify.
    """

    def __init__(
        self,
        *,
        service: str,
        method: str,
        path: str,
        status: int | None = None,
        error_code: str | None = None,
        error_msg: str | None = None,
        retry_after: float | None = None,
        reached_server: bool = True,
        transient: bool = True,
    ) -> None:
        self.service = service
        self.method = method
        self.path = path
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.retry_after = retry_after
        self.reached_server = reached_server
        self.transient = transient
        super().__init__(str(self))

    @classmethod
    def create(cls, **fields: object) -> DataArtsApiError:
        """The error for these fields: a :class:`DataArtsPermanentApiError` when trying again cannot help.

        :param fields: the constructor's arguments, as :meth:`to_dict` gives them.
        """
        status, transient = fields.get("status"), fields.get("transient", True)
        permanent = status in PERMANENT_STATUSES or (status is None and not transient)
        return (DataArtsPermanentApiError if permanent else cls)(**fields)

    @property
    def permanent(self) -> bool:
        """``True`` when sending the same call again cannot succeed (see :data:`PERMANENT_STATUSES`)."""
        return isinstance(self, DataArtsPermanentApiError)

    def to_dict(self) -> dict:
        """The constructor's arguments, JSON-safe: a trigger event carries the error this way."""
        names = ("service", "method", "path", "status", "error_code", "error_msg", "retry_after")
        return {name: getattr(self, name) for name in (*names, "reached_server", "transient")}

    def __str__(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else "no response"
        if self.error_code:
            what += f" {self.error_code}"
        detail = f": {self.error_msg}" if self.error_msg else ""
        hint = _HINTS.get((self.status, self.service)) or _HINTS.get((self.status, None))
        hint = f" ({hint})" if hint else ""
        return f"DataArts {self.service} call {self.method} {self.path} failed with {what}{detail}{hint}"


class DataArtsPermanentApiError(DataArtsApiError, AirflowFailException):
    """A :class:`DataArtsApiError` that trying again cannot fix (HTTP 400, 401, 403, 404, or a TLS
    certificate that does not verify): the task fails at once instead of retrying.

    Catch it as ``DataArtsApiError`` like any other; :meth:`DataArtsApiError.create` picks it.
    """


class DataArtsWaitError(AirflowException):
    """Waiting for a quality run ended without a verdict: timeout, run not listed, or an API error."""


class DataArtsQualityFailure(AirflowFailException):
    """A quality run ended FAILED, or ALARMING while ``fail_on_alarm`` is set.

    The task fails without retrying: a verdict on the data is a result, not an outage, and a
    retry would rerun the job and raise its alarms again. Retries stay for outages and crashes,
    where a retried task reattaches to its run.
    """
