"""The kinds of serious wrongdoing a discloser may name (s 10 of the Protected Disclosures
(Protection of Whistleblowers) Act 2022), offered by the form and kept in the clear for the queue's
filter and statistics."""

from __future__ import annotations

from portal.core.words import N_

# The kinds of serious wrongdoing in s 10 of the Protected Disclosures (Protection of
# Whistleblowers) Act 2022, in its order, and "not sure": a discloser need not classify it to be
# protected.
CATEGORIES: dict[str, str] = {
    "offence": N_("An offence"),
    "health_safety_environment": N_(
        "A serious risk to public health, public safety, the health or safety of any "
        "individual, or the environment"
    ),
    "maintenance_of_law": N_(
        "A serious risk to the maintenance of law, including the prevention, investigation and "
        "detection of offences, and the right to a fair trial"
    ),
    "public_funds": N_("An unlawful, corrupt or irregular use of public funds or public resources"),
    "public_sector_conduct": N_(
        "Oppressive, unlawfully discriminatory or grossly negligent conduct, or gross "
        "mismanagement, by an employee of a public sector organisation or by someone acting "
        "(or claiming to act) for a public sector organisation or the Government"
    ),
    "not_sure": N_("I am not sure which of these it is"),
}

# Values earlier versions of the form offered: still labelled when an old case is read.
FORMER_CATEGORIES: dict[str, str] = {
    "oppressive_conduct": N_(
        "Oppressive, unlawfully discriminatory or grossly negligent conduct by a public official"
    ),
    "gross_mismanagement": N_("Gross mismanagement by a public official"),
    "other": N_("Something else I believe is serious wrongdoing"),
}

DISCLOSED_ELSEWHERE: dict[str, str] = {
    "no": N_("No, this is the first time I have raised it"),
    "internal": N_("Yes, inside my organisation"),
    "authority": N_("Yes, with another appropriate authority"),
    "unsure": N_("I would rather not say"),
}


def known_category(value: str | None) -> str | None:
    """The s 10 category as kept in the clear for the queue's filter and statistics: one of the
    listed values (current or former), else None. Never free text."""
    return value if value in CATEGORIES or value in FORMER_CATEGORIES else None
