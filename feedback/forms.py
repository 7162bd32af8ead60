"""Forms check shape: lengths, formats, choices. Rules about stored data live in services."""

import re
import unicodedata
from urllib.parse import unquote_plus, unquote_to_bytes, urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_request_context, request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from feedback.db import DateRangeError, check_date_range
from feedback.models import Credit, Visibility
from feedback.query_args import MAX_ID

PUBLIC_LABEL = "Public comment: shown on this page after the site owner approves it"
PRIVATE_LABEL = (
    "Private note to the organisers: only the site owner and the organisers will read it"
)

NOT_UTF8 = "This contains bytes that are not valid UTF-8 text. Please retype it."
# Embeddings, overrides and isolates can make text display differently from what it says.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_URLENCODED = "application/x-www-form-urlencoded"
_CREDIT_MESSAGE = "Please choose how the organisers should credit you."
_VISIBILITY_MESSAGE = "Please choose a public comment or a private note."
_HANDLE = re.compile(r"@[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)?")
_BARE_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(/\S*)?")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?")


def _normalise_text(value: str | None) -> str | None:
    """Strip outer whitespace and turn Windows and old Mac line breaks into plain newlines."""
    if value is None:
        return None
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _website(value: str | None) -> str | None:
    """Strip it, and read a bare domain such as example.org as https://example.org."""
    value = _strip(value)
    if value and _BARE_DOMAIN.fullmatch(value):
        return "https://" + value
    return value


def _is_noncharacter(char: str) -> bool:
    # U+FDD0..U+FDEF and every U+xxFFFE/U+xxFFFF: never text, and not allowed in XML feeds.
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _bad_characters(value: str, allow_newlines: bool) -> str | None:
    """The reason a reader's text cannot be stored, or None when it is fine."""
    if "\ufffd" in value:
        # Werkzeug decodes multipart fields with errors="replace".
        return NOT_UTF8
    for char in value:
        if char in "\n\t" and allow_newlines:
            continue
        if char == "\x00":
            return "This contains a NUL byte, which is not allowed."
        if char in "\r\n":
            return "This must be a single line, without line breaks."
        if unicodedata.category(char) in ("Cc", "Cs"):
            return "This contains control characters, which are not allowed."
        if char in _BIDI_CONTROLS:
            return "This contains invisible text-direction characters, which are not allowed."
        if _is_noncharacter(char):
            return "This contains characters that are not text (Unicode noncharacters)."
    return None


def single_line(form: FlaskForm, field) -> None:
    """Refuse line breaks, NUL and other control characters, and broken UTF-8."""
    if field.data and (reason := _bad_characters(field.data, allow_newlines=False)):
        raise ValidationError(reason)


def multi_line(form: FlaskForm, field) -> None:
    """Like single_line, but paragraphs (newlines) and tabs are welcome."""
    if field.data and (reason := _bad_characters(field.data, allow_newlines=True)):
        raise ValidationError(reason)


def plain_name(form: FlaskForm, field) -> None:
    """A name shown as text: at least one letter or digit, and no markup."""
    if not field.data:
        return
    if "<" in field.data or ">" in field.data:
        raise ValidationError("Names can't contain < or >.")
    if not any(char.isalnum() for char in field.data):
        raise ValidationError("Please tell us your name, with at least one letter or digit.")


def email_address(form: FlaskForm, field) -> None:
    """Validate with email-validator; checking the domain's DNS is a config switch."""
    if not field.data:
        return
    try:
        result = validate_email(
            field.data,
            check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
        )
    except EmailNotValidError as exc:
        raise ValidationError(f"That email address is not valid: {exc}") from exc
    field.data = result.normalized


def website_or_handle(form: FlaskForm, field) -> None:
    """An http(s) address or a social handle such as @name, @name@server or @name.bsky.social."""
    value = field.data
    if not value:
        return
    message = "Enter a web address starting with http:// or https://, or a handle like @name."
    if value.startswith("@"):
        if not _HANDLE.fullmatch(value):
            raise ValidationError(message)
        return
    parts = urlsplit(value)
    host = parts.netloc.rpartition("@")[2]
    if (
        parts.scheme.lower() not in ("http", "https")
        or not _HOST.fullmatch(host)
        or "." not in host
        or any(c.isspace() for c in value)
    ):
        raise ValidationError(message)


def _topic_id(value: str | int | None) -> int | None:
    """The topic's id; the empty "Choose a topic" option means none chosen yet."""
    if value in ("", None):
        return None
    return int(value)


class TopicField(SelectField):
    """A select whose errors speak to readers, not programmers."""

    message = "Please choose one of the listed topics."

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.message) from exc

    def pre_validate(self, form: FlaskForm) -> None:
        if not self.validate_choice:
            return
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.message)


def undecodable_fields(raw: bytes) -> set[str]:
    """Names of the fields in a URL-encoded body whose values are not valid UTF-8."""
    bad = set()
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            bad.add(unquote_plus(name.decode("latin-1")))
    return bad


class ReaderForm(FlaskForm):
    """A form of reader text, where bytes that are not UTF-8 get a message on their field."""

    def __init__(self, *args, **kwargs) -> None:
        # Werkzeug keeps invalid URL-encoded bytes as literal %XX text, so check the raw body,
        # read (and cached for the parser) before the form parses it.
        self._raw_body = b""
        if has_request_context():
            if request.mimetype == _URLENCODED:
                self._raw_body = request.get_data(cache=True)
            # Text comes from form fields only; Flask-WTF would also take file parts and JSON,
            # which are not text and would break the length checks.
            if request.method == "POST":
                kwargs.setdefault("formdata", request.form)
        super().__init__(*args, **kwargs)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in undecodable_fields(self._raw_body):
            field = self._fields.get(name)
            # Hidden fields are the app's own (keys, tokens): nobody could retype them, and
            # their own checks refuse what the app did not write.
            if isinstance(field, HiddenField):
                continue
            if field is not None and NOT_UTF8 not in field.errors:
                field.errors = [*field.errors, NOT_UTF8]
                valid = False
        return valid


class SubmissionForm(ReaderForm):
    """An idea from a reader, public or private."""

    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[
            DataRequired("Please tell us your name."),
            Length(max=80, message="Please keep your name to 80 characters or fewer."),
            single_line,
            plain_name,
        ],
    )
    email = EmailField(
        "Your email",
        description="Never shown on the site. The site owner may write to you about your idea.",
        filters=[_strip],
        validators=[
            DataRequired("Please give your email address."),
            Length(max=254, message="An email address has at most 254 characters."),
            single_line,
            email_address,
        ],
    )
    website = URLField(
        "Website or social handle (optional)",
        description="For example https://example.org or @yourname.",
        filters=[_website],
        validators=[
            Optional(),
            Length(max=200, message="Please keep this to 200 characters or fewer."),
            single_line,
            website_or_handle,
        ],
    )
    topic = TopicField("Topic", coerce=_topic_id, validators=[InputRequired(TopicField.message)])
    title = StringField(
        "Title (optional)",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=120, message="Please keep the title to 120 characters or fewer."),
            single_line,
        ],
    )
    body = TextAreaField(
        "Your idea",
        description="Between 10 and 5000 characters. Blank lines start new paragraphs.",
        filters=[_normalise_text],
        validators=[
            DataRequired("Please write your idea."),
            Length(
                min=10,
                max=5000,
                message="Your idea needs between 10 and 5000 characters (you have %(length)d).",
            ),
            multi_line,
        ],
    )
    visibility = RadioField(
        "Who may read it?",
        choices=[
            SelectChoice(Visibility.PUBLIC.value, PUBLIC_LABEL),
            SelectChoice(Visibility.PRIVATE.value, PRIVATE_LABEL),
        ],
        validators=[InputRequired(_VISIBILITY_MESSAGE)],
        invalid_choice_message=_VISIBILITY_MESSAGE,
    )
    consent = BooleanField("The owner may publish this later")
    credit = RadioField(
        "How should the organisers credit you?",
        choices=[
            SelectChoice(Credit.NAME.value, "By my name"),
            SelectChoice(Credit.NAME_AND_ORGANISATION.value, "By my name and organisation"),
            SelectChoice(Credit.ANONYMOUS.value, "Anonymously"),
        ],
        default=Credit.NAME.value,
        validators=[InputRequired(_CREDIT_MESSAGE)],
        invalid_choice_message=_CREDIT_MESSAGE,
    )
    organisation = StringField(
        "Organisation (for “name and organisation”)",
        filters=[_strip],
        # No Optional(): it would end the checks before validate_organisation runs.
        validators=[
            Length(max=120, message="Please keep the organisation to 120 characters or fewer."),
            single_line,
            plain_name,
        ],
    )
    notify_author = BooleanField("Tell me by email when my idea goes to the organisers")

    def validate_organisation(self, field) -> None:
        if self.credit.data == Credit.NAME_AND_ORGANISATION.value and not field.data:
            raise ValidationError(
                "Please give your organisation, or choose another way to be credited."
            )

    # Hidden from people by CSS; simple bots fill every field they find.
    nickname = StringField("Leave this field empty")
    started = HiddenField()
    # One key per form shown: posting the same form twice stores one idea.
    form_key = HiddenField()


class LoginForm(FlaskForm):
    """An owner's email and password."""

    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Please give your email address."),
            Length(max=254, message="An email address has at most 254 characters."),
            single_line,
        ],
    )
    password = PasswordField("Password", validators=[DataRequired("Please give your password.")])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: it carries only the CSRF token."""


def parse_item_id(value: str | int) -> int:
    """An idea's number from a form or query.

    :raise ValueError: for anything but a whole number in the range ids can have.
    """
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an idea's number")
    return number


class BulkForm(FlaskForm):
    """The queue's checkboxes, the one action to run on the checked items, and its inputs."""

    # Actions beyond the per-item buttons, which need an input or a confirmation.
    EXTRA = {
        "set_topic": "Move to topic…",
        "add_note": "Add to the internal note…",
        "delete": "Delete for good…",
    }

    ids = SelectMultipleField(coerce=parse_item_id, validate_choice=False)
    action = SelectField("With the checked ideas", validate_choice=False)
    topic = TopicField("Topic", coerce=_topic_id, validate_choice=False)
    note = StringField(
        "Note",
        filters=[_strip],
        validators=[Length(max=500, message="At most 500 characters."), single_line],
    )

    def __init__(self, *args, actions: dict[str, str], topics: list[SelectChoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [
            SelectChoice("", "Choose an action…"),
            *(SelectChoice(k, label) for k, label in actions.items()),
            *(SelectChoice(k, label) for k, label in self.EXTRA.items()),
        ]
        self.topic.choices = [SelectChoice("", "Choose a topic…"), *topics]

    def validate_ids(self, field) -> None:
        if not field.data:
            raise ValidationError("Tick at least one idea first.")

    def validate_action(self, field) -> None:
        if not field.data or field.data not in {c.value for c in self.action.choices}:
            raise ValidationError("Choose one of the listed actions.")
        topic_ids = {choice.value for choice in self.topic.choices if choice.value != ""}
        if field.data == "set_topic" and self.topic.data not in topic_ids:
            raise ValidationError("Choose the topic to move the ideas to.")
        if field.data == "add_note" and not self.note.data:
            raise ValidationError("Write the note to add.")


class EditForm(FlaskForm):
    """The owner's typo fixes to a title and body."""

    title = StringField(
        "Title",
        filters=[_strip],
        validators=[Optional(), Length(max=120, message="At most 120 characters."), single_line],
    )
    body = TextAreaField(
        "Text",
        filters=[_normalise_text],
        validators=[
            DataRequired("The text cannot be empty."),
            Length(max=5000, message="At most 5000 characters (you have %(length)d)."),
            multi_line,
        ],
    )


class NoteForm(FlaskForm):
    """The owner's internal note, never shown publicly."""

    note = TextAreaField(
        "Internal note (only owners see it)",
        filters=[_normalise_text],
        validators=[Length(max=2000, message="At most 2000 characters."), multi_line],
    )


class SpamPhraseForm(ReaderForm):
    """A word or phrase the owner adds to the spam list."""

    phrase = StringField(
        "Word or phrase",
        filters=[_strip],
        validators=[
            DataRequired("Please type a word or phrase."),
            Length(max=100, message="At most 100 characters."),
            single_line,
        ],
    )

    def validate_phrase(self, field) -> None:
        if field.data and not any(char.isalnum() for char in field.data):
            raise ValidationError("A spam phrase needs at least one letter or digit.")


class TopicChoiceForm(FlaskForm):
    """Move an idea to another topic."""

    topic = TopicField("Topic", coerce=_topic_id, validators=[InputRequired(TopicField.message)])


class DigestOptionsForm(FlaskForm):
    """The owner's choices for the next digest (query arguments, or hidden fields on POST)."""

    class Meta:
        # Read from the query string for previews; the app's CSRF check guards every POST.
        csrf = False

    exclude_private = BooleanField("Leave private notes out")
    anonymise = BooleanField("Anonymise all authors (“A reader”, no emails or websites)")
    since = DateField("Received from", validators=[Optional()])
    until = DateField("Received until", validators=[Optional()])
    starred_only = BooleanField("Only starred ideas")
    topics = SelectMultipleField(
        "Topics (none ticked: all)",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    include_notes = BooleanField("Include my internal notes")
    include_contact = BooleanField("Include authors' email addresses (not for anonymous authors)")
    final = BooleanField("Final digest of the collection (every format says so)")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        try:
            check_date_range(self.since.data, self.until.data)
        except DateRangeError as exc:
            field = self[exc.which]
            field.errors = [*field.errors, str(exc)]
            return False
        return valid


class AuthorEditForm(ReaderForm):
    """The author's own changes to their idea, checked like the submission form."""

    title = SubmissionForm.title
    body = SubmissionForm.body
    topic = SubmissionForm.topic
    website = SubmissionForm.website


class ResendForm(ReaderForm):
    """Ask for the manage links of one's ideas again."""

    email = SubmissionForm.email


class ProposalForm(EditForm):
    """The version of a private note the owner asks its author to publish."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title.label.text = "Proposed title"
        self.body.label.text = "Proposed public text"
