"""Intake and workflow forms (resident phone page, hotline operator, staff actions)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhili.cases.models import CaseCategory

PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{5,8})$")
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/gif")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > 6:
            raise ValidationError(_("At most 6 photos."))
        for item in files:
            super().clean(item, initial)
            if item.size > MAX_PHOTO_BYTES:
                raise ValidationError(_("A photo may be at most 10 MB."))
            if (getattr(item, "content_type", "") or "").split(";")[0] not in PHOTO_TYPES:
                raise ValidationError(_("Only photos (JPEG, PNG, WebP, HEIC) can be attached."))
        return files


def category_choices(public_only: bool):
    qs = CaseCategory.objects.filter(is_active=True, children__isnull=True)
    if public_only:
        qs = qs.filter(is_public=True)
    return qs.select_related("parent").order_by("sort_order", "code")


class ReportForm(forms.Form):
    """What a resident (or an operator for a hotline call) fills in."""

    category = forms.ModelChoiceField(
        label=_("Kind of problem"), queryset=CaseCategory.objects.none(), to_field_name="code"
    )
    description = forms.CharField(
        label=_("What is the problem?"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )
    photos = PhotosField(label=_("Photos"))
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    address = forms.CharField(label=_("Where (address or landmark)"), max_length=200, required=False)
    name = forms.CharField(label=_("Your name"), max_length=50, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    anonymous = forms.BooleanField(label=_("Report anonymously"), required=False)
    urgent = forms.BooleanField(label=_("Urgent (danger to people or property)"), required=False)

    def __init__(self, *args, public_only=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = category_choices(public_only)
        self.fields["category"].label_from_instance = lambda c: (
            f"{c.parent.name} · {c.name}" if c.parent_id else c.name
        )
        self.questions = []
        code = self.data.get("category") if self.is_bound else None
        category = CaseCategory.objects.filter(code=code).first() if code else None
        for q in (category.extra_questions if category else None) or []:
            if not isinstance(q, dict) or not q.get("code"):
                continue
            name = f"q_{q['code']}"
            label = q.get("description") or q["code"]
            required = bool(q.get("required"))
            if q.get("datatype") == "singlevaluelist" and q.get("values"):
                choices = [("", "—")] + [
                    (str(v.get("key")), v.get("name") or v.get("key")) for v in q["values"]
                ]
                self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=required)
            elif q.get("datatype") == "number":
                self.fields[name] = forms.FloatField(label=label, required=required)
            else:
                self.fields[name] = forms.CharField(label=label, required=required, max_length=500)
            self.questions.append((q["code"], name))

    def clean_phone(self):
        phone = self.cleaned_data["phone"].replace(" ", "")
        if phone and not PHONE.match(phone):
            raise ValidationError(_("Enter a mobile (11 digits) or landline number."))
        return phone

    def clean(self):
        data = super().clean()
        lon, lat = data.get("longitude"), data.get("latitude")
        if (lon is None) != (lat is None):
            raise ValidationError(_("The position is incomplete; pick it again on the map."))
        category = data.get("category")
        if category is not None and data.get("anonymous") and not category.allow_anonymous:
            self.add_error("anonymous", _("This kind of problem cannot be reported anonymously."))
        if not data.get("anonymous") and not data.get("phone") and self.require_contact:
            self.add_error("phone", _("Leave a phone number so we can reach you, or report anonymously."))
        if lon is None and not data.get("address"):
            self.add_error("address", _("Give the position on the map or an address."))
        return data

    require_contact = True

    def location(self):
        lon, lat = self.cleaned_data.get("longitude"), self.cleaned_data.get("latitude")
        if lon is None:
            return None
        return {"type": "Point", "coordinates": [lon, lat]}

    def answers(self):
        return {
            code: self.cleaned_data.get(name)
            for code, name in self.questions
            if self.cleaned_data.get(name) not in (None, "")
        }


class HotlineForm(ReportForm):
    """A 12345 operator records a call: same fields, every category, caller's number required."""

    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("hotline", _("12345 hotline")), ("staff", _("Staff report")), ("patrol", _("Patrol"))],
        initial="hotline",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, public_only=False, **kwargs)


class ActionForm(forms.Form):
    """One workflow step: a note, optional photos and GPS, and the step's own fields."""

    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )
    photos = PhotosField(label=_("Photos"))
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[(5, "5 ★★★★★"), (4, "4 ★★★★"), (3, "3 ★★★"), (2, "2 ★★"), (1, "1 ★")],
        coerce=int,
        widget=forms.RadioSelect,
    )
    resolved = forms.TypedChoiceField(
        label=_("Was the problem solved?"),
        choices=[("1", _("Yes")), ("0", _("No"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
