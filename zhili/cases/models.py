"""Cases (接诉即办): every reported problem, from intake to archive, in one closed loop (R-6-cases).

A case moves through the states of GB/T 30428.8 and 12345 practice (see ``workflow``); every
transition is a ``CaseEvent`` row (who, when, where, notes, attachments) and an audit event.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.fields import GeometryField, SensitiveCharField
from zhili.core.models import BaseModel, GeoModel, TreeModel


class Channel(models.TextChoices):
    RESIDENT = "resident", _("Resident report")
    HOTLINE = "hotline", _("12345 hotline")
    STAFF = "staff", _("Staff report")
    OPEN311 = "open311", _("Open311")
    ALARM = "alarm", _("Sensor alarm")
    INSPECTION = "inspection", _("Inspection finding")
    PATROL = "patrol", _("Patrol")


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered (to accept)")
    ACCEPTED = "accepted", _("Accepted (to dispatch)")
    DISPATCHED = "dispatched", _("Dispatched (to handle)")
    HANDLING = "handling", _("Being handled")
    HANDLED = "handled", _("Handled (to feed back)")
    FEEDBACK = "feedback", _("Fed back (to review)")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged into another case")


#: States in which a case is still open (the SLA clock runs).
OPEN_STATES = (
    Status.REGISTERED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.HANDLED,
    Status.FEEDBACK,
)
FINAL_STATES = (Status.CLOSED, Status.REJECTED, Status.MERGED)


class SlaState(models.TextChoices):
    NONE = "", _("No deadline")
    OK = "ok", _("On time")
    WARNING = "warning", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class CaseCategory(TreeModel):
    """A kind of problem (道路破损, 噪声扰民, env.air…) with its default department and SLA."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    default_department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("default department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    handle_days = models.PositiveSmallIntegerField(
        _("working days to handle"), default=5, help_text=_("Deadline of the handling step.")
    )
    urgent_handle_hours = models.PositiveSmallIntegerField(
        _("hours to handle when urgent"), default=24, help_text=_("Wall-clock hours for urgent cases.")
    )
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("Residents may report it and it is listed in Open311.")
    )
    allow_anonymous = models.BooleanField(_("anonymous reports allowed"), default=True)
    extra_questions = models.JSONField(
        _("extra questions"),
        default=list,
        blank=True,
        help_text=_(
            'A list of {"code", "description", "datatype" (string, number, text, singlevaluelist), '
            '"required", "values"}; shown on the report form and as Open311 attributes.'
        ),
    )
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(TreeModel.Meta):
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class RoutingRule(BaseModel):
    """Which department (grid, person) a case goes to; the most specific matching rule wins."""

    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        CaseCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("Applies to this category and its sub-categories; empty = every category."),
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Applies to cases in this grid and the grids below; empty = everywhere."),
    )
    department = models.ForeignKey(
        "orgs.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dispatch_to_grid_worker = models.BooleanField(
        _("dispatch to the grid leader"),
        default=False,
        help_text=_("Assign the case to the leader of the case's grid."),
    )
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher wins among equals."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["-priority", "name"]

    def __str__(self):
        return self.name


class CalendarDay(BaseModel):
    """An exception to the weekly working rule: a public holiday or a make-up working day (调休)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"), default=False, help_text=_("Ticked for a make-up working day on a weekend.")
    )
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


def new_case_number() -> str:
    """Date of the report plus 8 random hex digits: unique without a counter (bulk imports too)."""
    return timezone.localtime().strftime("%Y%m%d") + secrets.token_hex(4).upper()


class Case(GeoModel):
    """One reported problem (事件) and where it stands in the loop."""

    number = models.CharField(
        _("case number"), max_length=24, unique=True, editable=False, default=new_case_number
    )
    category = models.ForeignKey(
        CaseCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.STAFF)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED, editable=False
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    geometry = GeometryField(_("location"), geom_types=("Point",), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("handling department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    reporter_phone = SensitiveCharField(_("reporter phone"), max_length=20, blank=True, mask="phone")
    anonymous = models.BooleanField(_("anonymous"), default=False)
    answers = models.JSONField(_("answers to extra questions"), default=dict, blank=True)
    source_label = models.CharField(_("source"), max_length=60, blank=True, editable=False)
    source_id = models.CharField(_("source id"), max_length=40, blank=True, editable=False)
    follow_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    # SLA clock of the current step
    step_started_at = models.DateTimeField(_("step started"), null=True, blank=True, editable=False)
    due_at = models.DateTimeField(_("step due"), null=True, blank=True, editable=False)
    warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_state = models.CharField(
        _("deadline"),
        max_length=8,
        choices=SlaState.choices,
        default=SlaState.NONE,
        blank=True,
        editable=False,
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0, editable=False)
    # milestones
    reported_at = models.DateTimeField(_("reported at"), editable=False, default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True, editable=False)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True, editable=False)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    result = models.TextField(_("handling result"), blank=True, editable=False)
    feedback = models.TextField(_("feedback to the reporter"), blank=True, editable=False)
    reject_reason = models.TextField(_("reason for rejection"), blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        editable=False,
    )
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0, editable=False)
    rating = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True, editable=False)
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True, editable=False)
    resolved = models.BooleanField(_("resolved (reporter)"), null=True, blank=True, editable=False)
    # step on-time flags for the statistics (null = step not done yet)
    accept_on_time = models.BooleanField(null=True, blank=True, editable=False)
    dispatch_on_time = models.BooleanField(null=True, blank=True, editable=False)
    handle_on_time = models.BooleanField(null=True, blank=True, editable=False)

    class Meta(GeoModel.Meta):
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at"]
        permissions = [
            ("accept_case", "Can accept or reject cases"),
            ("dispatch_case", "Can dispatch cases"),
            ("handle_case", "Can handle cases"),
            ("review_case", "Can review and close cases"),
            ("supervise_case", "Receives escalations of overdue cases"),
            ("merge_case", "Can merge duplicate cases"),
        ]
        indexes = [
            *GeoModel.Meta.indexes,
            # work queues: a department's open cases by deadline (only open cases have one)
            models.Index(fields=["department", "due_at"], name="cases_case_dept_due"),
            models.Index(fields=["status", "due_at"], name="cases_case_status_due"),
            # the SLA sweep: cases that cross their warning or due time since the last sweep
            models.Index(fields=["sla_state", "warn_at"], name="cases_case_sla_warn"),
            models.Index(fields=["sla_state", "due_at"], name="cases_case_sla_due"),
            models.Index(fields=["assignee", "due_at"], name="cases_case_assignee_due"),
            models.Index(fields=["grid", "status"], name="cases_case_grid"),
            models.Index(fields=["category", "reported_at"], name="cases_case_cat_time"),
            models.Index(fields=["reported_at"], name="cases_case_reported"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        from zhili.cases import clock

        if self.reported_at is None:
            self.reported_at = clock.now()
        if not self.number:
            self.number = clock.localtime(self.reported_at).strftime("%Y%m%d") + secrets.token_hex(4).upper()
        if self.pk is None and self.due_at is None and self.status in OPEN_STATES and self.category_id:
            from zhili.cases.services import start_step

            start_step(self, self.status, self.reported_at)  # created by a form, not open_case
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def point(self) -> tuple[float, float] | None:
        if self.bbox_minx is None:
            return None
        return (self.bbox_minx, self.bbox_miny)

    def remaining(self, now=None) -> dt.timedelta | None:
        """Time left on the current step (negative when overdue)."""
        from zhili.cases import clock

        if self.due_at is None or not self.is_open:
            return None
        return self.due_at - (now or clock.now())


class EventKind(models.TextChoices):
    REGISTER = "register", _("Registered")
    ACCEPT = "accept", _("Accepted")
    REJECT = "reject", _("Rejected")
    DISPATCH = "dispatch", _("Dispatched")
    START = "start", _("Handling started")
    PROGRESS = "progress", _("Progress note")
    RETURN = "return", _("Returned as wrongly dispatched")
    EXTENSION_REQUEST = "extension_request", _("Extension requested")
    EXTENSION_DECISION = "extension_decision", _("Extension decided")
    COMPLETE = "complete", _("Handling completed")
    FEEDBACK = "feedback", _("Fed back to the reporter")
    REVIEW_PASS = "review_pass", _("Review passed, closed")
    REVIEW_FAIL = "review_fail", _("Review failed, sent back")
    REOPEN = "reopen", _("Reopened")
    MERGE = "merge", _("Merged")
    RATE = "rate", _("Rated by the reporter")
    WARNING = "warning", _("Deadline warning")
    ESCALATE = "escalate", _("Escalated as overdue")
    COMMENT = "comment", _("Comment")


#: Events the reporter sees on the follow page (the rest is internal).
PUBLIC_EVENTS = (
    EventKind.REGISTER,
    EventKind.ACCEPT,
    EventKind.REJECT,
    EventKind.DISPATCH,
    EventKind.COMPLETE,
    EventKind.FEEDBACK,
    EventKind.REVIEW_PASS,
    EventKind.REOPEN,
    EventKind.MERGE,
    EventKind.RATE,
)


class CaseEvent(models.Model):
    """One step in a case's timeline: who did what, when, where, with which notes."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=EventKind.choices)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    at = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]
        default_permissions = ()

    def __str__(self):
        return f"{self.case_id} {self.kind}"


def attachment_path(instance, filename):
    return f"cases/{instance.case_id}/{filename}"


class CaseAttachment(models.Model):
    """A photo or document of a case (from the report, a handling step or the review)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        default_permissions = ()

    def __str__(self):
        return self.file.name or self.url

    @property
    def link(self) -> str:
        """Where the file can be fetched (a signed link for stored files)."""
        if self.file:
            from zhili.cases.views import photo_url

            return photo_url(self)
        return self.url


class FollowUpVisit(BaseModel):
    """A return visit (回访) to a reporter who rated a case poorly."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="visits")
    reason = models.CharField(_("reason"), max_length=200)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visitor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["done", "due_date"]

    def __str__(self):
        return f"{self.case} · {self.reason}"
