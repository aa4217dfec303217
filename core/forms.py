"""Admin forms run the API's upload checks (core/files); a refusal becomes a form error."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from core.errors import ApiError

UploadCheck = Callable[..., Any]


class VerifiedUploadsForm(forms.ModelForm):
    """A ModelForm whose new uploads pass the same content checks as the API.

    Subclasses map model field names to checks, e.g. `upload_checks = {"image": verify_image}`;
    a check raises ApiError for a bad file and may rename the upload to a generated name.
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
                except ApiError as error:
                    self.add_error(field_name, error.detail)
        return cleaned
