"""What the sealing pages' scripts say to the discloser (static/seal/disclose.js, status.js,
page.js), in the request's language: the pages are static files of the signed bundle, so they cannot
be rendered with the catalogue, and the setup JSON hands the script these words instead (issue 28).

Keys are what the scripts ask for (`word('key')` in static/seal/); `%(name)s` is filled in by the
script, with text only (never markup). The words are untrusted input for the page like all the setup
says: a server that words a refusal misleadingly still cannot make the page seal or send what its
signed checks refuse (SECURITY.md, "The sealing page's signed bundle")."""

from __future__ import annotations

from flask_babel import gettext

from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.hidden_details import kinds
from portal.records.casefiles import STATUSES
from portal.web import languages


def sealing_words() -> dict[str, str]:
    """{key: sentence} for the sealing pages, translated; placeholders as `%(name)s`: what the
    scripts say (`word('key')`) and the pages' own text (`data-word="key"` in static/seal/*.html,
    page.js's wordThePage)."""
    return {**_script_words(), **_page_words()}


def page_language() -> dict[str, str]:
    """{"code": the request's language (a Babel code, "mi"), "dir": "ltr" or "rtl"}: what the
    sealing pages set on their <html> once the words have come."""
    return {"code": languages.page_language(), "dir": languages.text_direction()}


def _page_words() -> dict[str, str]:
    # The static pages' text, the same words as the pages without script where they say the same
    # (one string for a translator). %(name)s stands for a marked child element (data-slot).
    return {
        # Both pages: the frame, as templates/base.html words it.
        "skip": gettext("Skip to main content"),
        "brand": gettext("Protected disclosures"),
        "main_nav": gettext("Main"),
        "nav_disclose": gettext("Make a disclosure"),
        "nav_status": gettext("Check a disclosure"),
        "footer": gettext(
            "This page loads nothing from other websites and seals what you write in your browser"
            " before sending it."
        ),
        # disclose.html
        "disclose_title": gettext("Make a disclosure, sealed in your browser"),
        "disclose_intro": gettext(
            "On this page your own browser encrypts everything you write and every file you attach"
            " before any of it is sent, so the portal's server never sees it in the clear. Only the"
            " integrity officers of the channel you choose can open it (Protected Disclosures"
            " (Protection of Whistleblowers) Act 2022)."
        ),
        "disclose_server_mode": gettext(
            "%(link)s (the portal's server encrypts what you send as it arrives; it works without"
            " script)."
        ),
        "disclose_server_mode_link": gettext("Use the ordinary form instead"),
        "getting_ready": gettext("Getting the page ready…"),
        "label_channel": gettext("Who should receive this disclosure?"),
        "label_category": gettext("What kind of serious wrongdoing is it?"),
        **{f"category_{value}": gettext(label) for value, label in CATEGORIES.items()},
        "label_summary": gettext("A short title"),
        "label_details": gettext("What happened?"),
        "label_elsewhere": gettext("Have you raised this anywhere else?"),
        **{f"elsewhere_{value}": gettext(label) for value, label in DISCLOSED_ELSEWHERE.items()},
        "label_language": gettext("The language you wrote in"),
        "language_hint": gettext(
            "So that an officer can answer you in it. It is encrypted with your disclosure. Choose"
            " “I would rather not say” if your language could help identify you."
        ),
        "label_contact": gettext("How to contact you (optional)"),
        "label_identifying": gettext("Anything else that could identify you (optional)"),
        "label_exclude": gettext("Officers who must not see this disclosure (optional)"),
        "label_files": gettext("Files (optional)"),
        "seal_and_send": gettext("Seal and send"),
        "sent_so_far": gettext("Sent so far"),
        "received": gettext("Your disclosure was received"),
        "sealed_here": gettext(
            "Your disclosure was %(how)s: your device encrypted it before sending it, so the"
            " portal's server never saw what you wrote."
        ),
        "sealed_here_how": gettext("sealed in your browser"),
        "receipt_is": gettext("Your receipt code is:"),
        "keep_receipt": gettext(
            "Write it down or keep it somewhere safe. It is the only way to check on your"
            " disclosure and read the officers' replies: nobody, not even the officers, can give it"
            " to you again."
        ),
        "check_sealed": gettext("Check on a disclosure, sealed in your browser"),
        # status.html
        "status_title": gettext("Check on a disclosure, in your browser"),
        "status_intro": gettext(
            "On this page your own browser works out what it needs from your receipt code and opens"
            " the officers' messages itself: your receipt code and what you read or write are never"
            " sent to the portal in the clear."
        ),
        "status_server_mode": gettext(
            "%(link)s (it works without script, but the portal's server then opens your disclosure"
            " for you during that visit)."
        ),
        "status_server_mode_link": gettext("Use the ordinary status page instead"),
        "label_receipt": gettext("Receipt code"),
        "open": gettext("Open"),
        "status_is": gettext("Status: %(status)s"),
        **{f"status_{value}": gettext(label) for value, label in STATUSES.items()},
        "messages": gettext("Messages"),
        "label_reply": gettext("Your message"),
        "send_message": gettext("Send message"),
    }


def _script_words() -> dict[str, str]:
    return {
        # page.js: what any answer of the portal may be refused for.
        "not_taken": gettext(
            "The portal could not take this just now. Nothing was sent in the clear."
        ),
        "unreadable": gettext("The portal sent an answer this page cannot read."),
        "bad_value": gettext("The portal sent an answer this page cannot read (%(what)s)."),
        "not_ready": gettext(
            "This page could not get ready. Please reload it, or use the page that works without"
            " script."
        ),
        "busy": gettext("The portal is busy. Trying again in a few seconds (%(why)s)"),
        # disclose.js: the signed bundle and the rosters.
        "bundle_unchecked": gettext(
            "This page will not seal your disclosure: its signed list of files and keys could not"
            " be checked. Nothing was sent. Please use the ordinary form."
        ),
        "bundle_unchecked_because": gettext(
            "This page will not seal your disclosure: its signed list of files and keys could not"
            " be checked (%(why)s). Nothing was sent. Please use the ordinary form."
        ),
        "bundle_other_roots": gettext(
            "This page will not seal your disclosure: the portal names other keys for its readers"
            " than the signed list of this page. Nothing was sent. Please use the ordinary form."
        ),
        "roster_refused": gettext(
            "This page will not seal your disclosure to %(names)s: their key does not match the"
            " signed list of who may read this channel, so it could belong to someone else."
        ),
        "roster_still_reaches": gettext("It still reaches %(names)s, whose keys were checked."),
        "roster_none_checked": gettext(
            "No officer of this channel could be checked, so it cannot be sent to them now."
        ),
        "roster_not_started": gettext(
            "This page cannot seal to this channel yet: its officers have not yet signed the list"
            " of who may read it (they do so when they first sign in and compare each other's"
            " keys). Choose another channel, come back later, or use the ordinary form."
        ),
        "recovery_key": gettext("the recovery key"),
        "choose_one": gettext("Choose one"),
        "rather_not_say": gettext("I would rather not say"),
        "ready": gettext('The page is ready. Nothing is sent until you choose "Seal and send".'),
        # disclose.js: the form's checks.
        "need_channel": gettext("Please choose who should receive it."),
        "need_category": gettext("Please choose the kind of wrongdoing."),
        "need_summary": gettext("Please give a short title."),
        "need_details": gettext("Please describe what happened."),
        "need_elsewhere": gettext("Please say whether you have raised it elsewhere."),
        "too_long": gettext('"%(label)s" is too long.'),
        "no_reader": gettext(
            "No officer of this channel could be checked, so this page cannot seal it to them"
            " now. Try again later or use the ordinary form."
        ),
        # disclose.js: sealing and sending.
        "your_file": gettext("your file"),
        "file_of": gettext("file %(n)s of %(count)s"),
        "removing_details": gettext("Removing hidden details from %(file)s…"),
        "reading_file": gettext("Reading %(file)s…"),
        "sending_part": gettext("Sending %(file)s: part %(part)s of %(parts)s."),
        "resuming_file": gettext(
            "Carrying on with %(file)s from part %(part)s of %(parts)s, where sending it stopped."
        ),
        "part_interrupted": gettext(
            "The connection was interrupted while sending %(file)s. Carrying on from the last part"
            " the portal kept…"
        ),
        "upload_cut_off": gettext(
            "The connection was lost while sending %(file)s, at part %(part)s of %(parts)s. Nothing"
            " was sent in the clear, and the parts the portal kept are kept until tomorrow morning:"
            " press “Seal and send” again when you are back online, or reload this page and choose"
            " the same file, and it carries on from there."
        ),
        "making_receipt": gettext("Making your receipt code…"),
        "sealing": gettext("Sealing your disclosure…"),
        "sending_disclosure": gettext("Sending your sealed disclosure…"),
        "answer_by": gettext("You should hear from the officers by %(day)s."),
        # disclose.js: the hidden details in files (issue 26), as the plaintext form says them
        # (templates/intake/_strip_metadata.html, _metadata_report.html) where the same is true.
        "strip_label": gettext(
            "Remove hidden details (author, edit history, location) from my files"
        ),
        "strip_hint": gettext(
            "Documents, spreadsheets, PDFs and photos can carry hidden details that tell who made"
            " them: the author's name and the organisation's, edit history, comments and tracked"
            " changes with names on them, template and file paths, and for photos the place (GPS)"
            " and the camera. Ticked, this box has your browser remove them before your files are"
            " sealed; your original files are kept sealed to your receipt code alone, and you can"
            " hand one over later from the ordinary status page (Check a disclosure). What the"
            " text says and what a picture shows are not changed."
        ),
        "strip_kinds": gettext(
            "Your browser can remove them from JPEG and PNG photos, Word, Excel and PowerPoint"
            " files, and OpenDocument files. It cannot check PDFs, TIFF or HEIC photos, videos,"
            " older .doc and .xls files, or such older files embedded in a document: those are"
            " sealed as you send them, with their hidden details, and your receipt names them. The"
            " ordinary form can remove them from PDFs and TIFF and HEIC photos."
        ),
        "report_heading": gettext("Hidden details in your files"),
        "report_removed": gettext(
            "removed: %(kinds)s. Your original is kept sealed to your receipt code alone."
        ),
        "report_none": gettext("checked: no hidden details were found."),
        "report_left": gettext(
            "not checked: you chose to leave any hidden details in, so the officers can see them."
        ),
        "report_plain": gettext(
            "plain text: it has no place for hidden details of the kinds the portal removes, so it"
            " was kept as you sent it."
        ),
        "report_unknown": gettext(
            "not checked: your browser cannot check this kind of file, so it was sealed as you"
            " sent it. It may still hold hidden details."
        ),
        "report_damaged": gettext(
            "could not be checked: it looks damaged, or not what its kind says, so it was kept as"
            " you sent it. It may still hold hidden details."
        ),
        "report_size": gettext(
            "could not be checked: it is too large or too complex to check, so it was kept as you"
            " sent it. It may still hold hidden details."
        ),
        "went_wrong_nothing_sent": gettext(
            "Something went wrong in this browser. Nothing was sent in the clear."
        ),
        "disclosure_unanswered": gettext(
            "The connection was cut while your sealed disclosure was being sent, so this page does"
            ' not know whether the portal received it. Choose "Seal and send" again: the page'
            " sends the same sealed disclosure, with the same receipt code (what you change on the"
            " page now is not added)."
        ),
        "reload_first": gettext("%(problem)s Reload this page before trying again."),
        # status.js
        "not_opened": gettext("We could not open a disclosure with that code."),
        "sealed_by_browser": gettext(
            "Your disclosure was sealed in your browser: your device encrypted it before sending"
            " it, so the portal's server never saw what you wrote."
        ),
        "sealed_by_server": gettext(
            "Your disclosure was sealed by the portal's server: your browser sent it over an"
            " encrypted connection and the server encrypted it as it arrived, without keeping it"
            " in the clear."
        ),
        "by_officer": gettext("Integrity officer, %(day)s"),
        "by_you": gettext("You, %(day)s"),
        "message_unopened": gettext("This message could not be opened in this browser."),
        "no_messages": gettext("No messages yet."),
        "not_a_receipt": gettext("That does not look like a receipt code. Check it and try again."),
        "opening": gettext("Opening your disclosure in this browser…"),
        "went_wrong": gettext("Something went wrong in this browser. Please try again."),
        "need_message": gettext("Please write your message."),
        "reply_sent": gettext("Your message was sent, sealed in your browser."),
        "reply_not_sent": gettext("Your message could not be sent. Please try again."),
        "reply_unanswered": gettext(
            "The connection was cut while your message was being sent, so this page does not know"
            ' whether the portal received it. Choose "Send message" again: the page sends the'
            " same message, and the portal keeps it once."
        ),
    }


def hidden_kind_words() -> dict[str, str]:
    """{kind as static/seal/hidden-details.js names it (the English of
    portal.hidden_details.kinds): the kind in the request's language}, for the sealing page's
    account of what it removed from each file."""
    return {kind: gettext(kind) for kind in sorted(kinds.ALL)}


def fault_words(kind: str, retry_after: int) -> str:
    """What a sealed route's JSON 503 says for a storage fault of `kind` (portal.store.faults):
    what happened, that nothing was sent in the clear or stored, and when to try again
    (`retry_after` seconds, also the answer's Retry-After); the page shows it as it is."""
    from portal.web.fault_pages import WHAT_HAPPENED, when_to_try

    return " ".join(
        (
            str(WHAT_HAPPENED[kind][1]),
            gettext("Nothing was sent in the clear, and nothing was stored."),
            when_to_try(retry_after),
        )
    )
