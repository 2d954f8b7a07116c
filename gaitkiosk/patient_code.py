"""The patient code: the number on a patient's card that they type on the kiosk's keypad.

Defined here once; ``gaitkiosk patients add``, ``gaitkiosk run --code``, the
check-in keypad (told by the runtime how many digits it takes) and
docs/drills.md all use it.

**4 to 8 digits.** The keypad has digits only, so a letter in a code
("P001") could never be typed. Four digits is what patients know from a bank
card; the keypad's back-off (``gaitkiosk.lockout``: the third wrong code within an
hour waits 30 s, doubling to 15 min) holds someone trying codes all day at the
kiosk to about 160 tries, each one in the audit log. With 4-digit codes and 200
patients that is still a few hits a day for a determined stranger, so clinics
with more than a few dozen patients should hand out 6 digits (about one hit a
month); what a hit shows is an exercise program and plain-word results, no name.
More than 8 digits no longer reads at a glance from a card.

Codes stored before this rule (letters, 1-3 or more than 8 digits) stay valid
records; :func:`problem` says what is wrong with one, ``gaitkiosk patients list``
marks them and ``gaitkiosk patients recode OLD NEW`` gives a patient a new code.
The keypad still looks up a short code, so such a patient can check in until then.
"""

from __future__ import annotations

from gaitkiosk import checks

MIN_DIGITS = 4
MAX_DIGITS = 8

CODE = checks.matching(rf"[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}",
                       f"{MIN_DIGITS} to {MAX_DIGITS} digits (the kiosk's keypad has no letters), e.g. 40712")


def check_code(code: str, name: str = "patient code") -> str:
    """``code`` if a patient can type it at the kiosk, else a one-line :class:`UsageError`."""
    return CODE.check(code, name)


def problem(code: str) -> str | None:
    """Why a stored code does not follow the rule (None: it does), in a technician's words."""
    if CODE.ok(code):
        return None
    if not code.isascii() or not code.isdigit():
        return "cannot be typed at the kiosk (the keypad has digits only)"
    if len(code) > MAX_DIGITS:
        return f"cannot be typed at the kiosk (the keypad takes at most {MAX_DIGITS} digits)"
    return f"is short and easy to guess (new codes have at least {MIN_DIGITS} digits)"
