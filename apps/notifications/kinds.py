"""The kinds of notification, registered by the apps that send them.

Each app declares its kinds once, in its ``AppConfig.ready()``, with a label members
recognise on the preferences page and the default delivery by email:

    register_kind("ledger.received", label="Someone sent you credits", default="immediate")

In-app delivery is always on; ``default`` is only about email: ``immediate``, ``digest``
(one daily email with everything unread) or ``off``.

An email's subject line is fixed per kind (``subject``, else the label): the text of a
notification often quotes another member (a gift's memo, a request's title), and that
belongs in the body, never in the subject line a mail client shows before opening.
"""

from __future__ import annotations

from dataclasses import dataclass

DELIVERIES = ("immediate", "digest", "off")


@dataclass(frozen=True)
class Kind:
    """One kind of notification: its label on the preferences page, its default email
    delivery, and the fixed subject line of its emails."""

    key: str
    label: str
    default: str
    subject: str = ""
    for_organizers: bool = False

    @property
    def group(self) -> str:
        """The app that sends it (the key's prefix), whose name heads its group on the
        preferences page."""
        return self.key.split(".", 1)[0]

    @property
    def email_subject(self) -> str:
        return self.subject or self.label


KINDS: dict[str, Kind] = {}


def register_kind(
    key: str, *, label: str, default: str = "immediate", subject: str = "", for_organizers: bool = False
) -> Kind:
    """Declare a kind. Registering the same key again with the same label is harmless
    (``ready()`` may run twice in tests); a conflicting one is a programming error.
    ``subject`` is the fixed subject line of its emails (default: the label);
    ``for_organizers`` kinds are offered only to people who organize a community."""
    if default not in DELIVERIES:
        raise ValueError(f"default must be one of {DELIVERIES}, not {default!r}")
    kind = Kind(key=key, label=label, default=default, subject=subject, for_organizers=for_organizers)
    existing = KINDS.get(key)
    if existing is not None and existing != kind:
        raise ValueError(f"Notification kind {key!r} is already registered differently: {existing}")
    KINDS[key] = kind
    return kind


def get_kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise ValueError(f"Unknown notification kind {key!r}; register it with register_kind().") from None
