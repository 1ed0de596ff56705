"""The kinds of hidden detail, in the plain words the receipt page uses. A report names kinds only,
never a value found."""


def N_(text: str) -> str:
    """Marks a kind for the message catalogue (docs/translating.md); the page translates it where it
    is shown. This package imports nothing of `portal`, so it has its own marker."""
    return text


AUTHOR = N_("names of authors or owners")
LOCATION = N_("location (GPS position)")
DEVICE = N_("camera or device details")
DATES = N_("dates and times of creation and editing")
SOFTWARE = N_("the software and its version")
EDIT_HISTORY = N_("edit history (revision numbers, editing time)")
COMMENT_AUTHORS = N_("names and dates on comments")
TRACKED_CHANGES = N_("names and dates on tracked changes")
PROPERTIES = N_("document properties (title, subject, keywords, custom properties)")
COMPANY = N_("company or organisation name")
PATHS = N_("template names and file paths")
THUMBNAIL = N_("an embedded preview picture")
PRINTER = N_("printer settings")
PEOPLE = N_("a list of the people who worked on it")
LINKED_DATA = N_("linked data from a document server (SharePoint)")
XMP = N_("embedded XMP metadata")
DOCUMENT_ID = N_("the document's identifier")
EARLIER_VERSIONS = N_("earlier saved versions kept inside the file")
TEXT_NOTES = N_("text notes and comments hidden in the image")
IMAGE_DETAILS = N_("photo details (EXIF) in embedded pictures")
OTHER = N_("other hidden data")

# Every kind above: what a receipt may name (a child's answer naming anything else is not believed).
ALL = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
