"""Accounts: django-allauth (sign-up, login, verification, rate limits, headless tokens).

Kept apart from base.py so account rules have one home; base.py star-imports it.
"""

import environ

env = environ.Env()

# django-allauth: email is the login; verification is "optional" in the embedded mode
# (console email) and "mandatory" in production.
ACCOUNT_ADAPTER = "apps.peers.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Sign-up also asks for the name neighbors see (never derived from the email address).
ACCOUNT_SIGNUP_FORM_CLASS = "apps.peers.forms.SignupDetailsForm"
# A taken and a free address get the same answer at sign-up, in every verification mode
# (see apps.peers.adapters.SignupEmailVerificationStage and SignupDetailsForm.clean).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated here so they are visibly on.
    "login": "30/m/ip",
    # The "key" is the account AND the client's address (AccountAdapter), so wrong
    # guesses from elsewhere never lock the real member out.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[p2pcommons] "
# Mobile apps log in through allauth's headless "app" client and send the session
# token it returns as the X-Session-Token header (see README, "API").
HEADLESS_CLIENTS = ("app",)
HEADLESS_ONLY = False
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_SPECIFICATION_TEMPLATE_NAME = "headless/spec_local.html"
