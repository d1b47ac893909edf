"""Domain errors raised by services in every app."""


class RuleViolation(Exception):
    """A request that is well-formed but breaks a business rule (HTTP 409 in the API).

    Bad input (a missing or malformed field) is Django's ``ValidationError`` instead.
    """

    code = "rule_violation"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
