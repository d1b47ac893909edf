"""Named rules: who may do what, one letter per persona, in world.PERSONAS order

    anonymous, stranger, outsider, suspended, owner, counterpart, member,
    other_organizer, organizer, superuser

Letters (what the answer must be):
    O  allowed: 2xx, or a 3xx that is not the sign-in page
    L  sign in first: a page redirects to the sign-in page; the API answers 401 or 403
    D  refused: 403
    H  hidden: 404
    R  refused by a rule of the exchange (a party, but not this one, or not now): 409 or 400
    A  the admin's own sign-in redirect (not staff)
    F  a page's form shown again with its errors (a POST answered 200: nothing done)
    V  the API refuses the body: 400 with field errors (a row of a community the persona
       is not in reads as "no such ...")
    M  405, the method is not allowed

The table (table.py) names one rule per endpoint; a few rules are written out where an
endpoint is special, with the reason next to it.
"""

from __future__ import annotations

from .world import PERSONAS

# --- open to everyone -----------------------------------------------------------------------
PUBLIC = "OOOOOOOOOO"
# --- any signed-in account, about themselves -------------------------------------------------
SIGNED_IN = "LOOOOOOOOO"
# --- reading a row of community A: its members (suspended ones still read) and organizer ----
MEMBERS = "LHHOOOOHOH"


def expand(rule: str) -> dict[str, str]:
    """The rule as persona -> letter; a rule string has one letter per persona."""
    letters = rule.replace(" ", "")
    assert len(letters) == len(PERSONAS), f"a rule has {len(PERSONAS)} letters: {rule!r}"
    return dict(zip(PERSONAS, letters, strict=True))


# --- one person's own row: the owner of the subject (lender, helper, seller, author) ---------
OWNER = "LHHHOHHHHH"
# ...and the owner, but the subject is not in a state for it now (the exchange refuses: 409)
OWNER_NOT_NOW = "LHHHRHHHHH"
# --- the counterpart's own row (borrower, learner, reporter, volunteer) ----------------------
COUNTERPART = "LHHHHOHHHH"
COUNTERPART_NOT_NOW = "LHHHHRHHHH"
# --- both parties of an exchange; nobody else learns it exists -------------------------------
PARTIES = "LHHHOOHHHH"
PARTIES_NOT_NOW = "LHHHRRHHHH"
# --- active members of the community and its organizer; a suspended member and everyone
# outside (the superuser included: the site shows a community to its members) get 404 --------
MEMBERS = "LHHHOOOHOH"
# --- co-design: a suspended member still reads a challenge; posting refuses them (409) -------
MEMBERS_AND_SUSPENDED = "LHHOOOOHOH"
MEMBERS_POST = "LHHROOOHOH"
# --- co-design steps only an organizer takes: members are refused by the rule (409) ----------
ORGANIZER_STEP = "LHHRRRRHOH"
# --- organizer pages: everyone else 404 -------------------------------------------------------
ORGANIZER = "LHHHHHHHOH"
# --- the organizers of the community and the site's superuser ---------------------------------
ORGANIZER_OR_SUPERUSER = "LHHHHHHHOO"
# --- a form that saves someone's row, sent with a partial body: its owner gets the form back
# with what is missing (F: the permission let them through), everyone else 404 --------------
OWNER_FORM = "LHHHFHHHHH"
COUNTERPART_FORM = "LHHHHFHHHH"
ORGANIZER_FORM = "LHHHHHHHFH"
