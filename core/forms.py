"""Admin forms run the API's checks: its text rule (core/text.py) on every text field and its
upload checks (core/files); a refusal becomes a form error beside its field."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from core.errors import DomainError
from core.text import clean_text

UploadCheck = Callable[..., Any]


def _text_rule(*, multiline: bool) -> Callable[[str], None]:
    def validate(value: str) -> None:
        try:
            clean_text(value, multiline=multiline, required=False)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid_text") from None

    return validate


class TextRuleForm(forms.BaseForm):
    """A form whose text fields follow the API's text rule: no control characters (but tab
    and newline in a multi-line box), no invisible or direction-changing characters.

    Every CharField counts, except passwords; a Textarea is multi-line. Django's CharField
    already trims what the rule trims (str.strip covers the same white space).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and not isinstance(
                field.widget, forms.PasswordInput
            ):
                multiline = isinstance(field.widget, forms.Textarea)
                field.validators.append(_text_rule(multiline=multiline))


class TextRuleModelForm(TextRuleForm, forms.ModelForm):
    """An admin's default form with the text rule: `form = TextRuleModelForm`."""


class VerifiedUploadsForm(TextRuleModelForm):
    """A ModelForm whose new uploads pass the same content checks as the API (and whose text
    follows its text rule).

    Subclasses map model field names to checks, e.g. `upload_checks = {"image": verify_image}`;
    a check raises a domain error (Invalid, TooLarge) for a bad file and may rename the upload
    to a generated name.
    The admin then saves through the services, which run the same checks again: the form's
    run is only there to show a refusal beside its field.
    """

    upload_checks: dict[str, UploadCheck] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field_name, check in self.upload_checks.items():
            upload = cleaned.get(field_name)
            if isinstance(upload, UploadedFile):  # a new file, not the one already stored
                try:
                    check(upload, field=field_name)
                except DomainError as error:
                    self.add_error(field_name, error.detail)
        return cleaned
