"""The one exception type every failed DataArts call surfaces as."""

from __future__ import annotations

from airflow_provider_dataarts._compat import AirflowException, AirflowFailException


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

    def to_dict(self) -> dict:
        """The constructor's arguments, JSON-safe: a trigger event carries the error this way."""
        names = ("service", "method", "path", "status", "error_code", "error_msg", "retry_after")
        return {name: getattr(self, name) for name in (*names, "reached_server", "transient")}

    def __str__(self) -> str:
        what = f"HTTP {self.status}" if self.status is not None else "no response"
        if self.error_code:
            what += f" {self.error_code}"
        detail = f": {self.error_msg}" if self.error_msg else ""
        return f"DataArts {self.service} call {self.method} {self.path} failed with {what}{detail}"


class DataArtsWaitError(AirflowException):
    """Waiting for a quality run ended without a verdict: timeout, run not listed, or an API error."""


class DataArtsQualityFailure(AirflowFailException):
    """A quality run ended FAILED, or ALARMING while ``fail_on_alarm`` is set.

    The task fails without retrying: a verdict on the data is a result, not an outage, and a
    retry would rerun the job and raise its alarms again. Retries stay for outages and crashes,
    where a retried task reattaches to its run.
    """
