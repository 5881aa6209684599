"""The admin's "Import CSV" page: upload, dry run, confirm, progress, rejected rows."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.models import ImportJob

from .formats import kind_formats, template_csv
from .jobs import (
    ImportJobError,
    import_job_confirm,
    import_job_create,
    import_job_refusal,
    import_kinds_for,
    kind_label,
    upload_too_large,
)
from .tasks import import_job_start


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"))
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, with a header row; rows are matched by external_id, so loading the same "
            "file twice changes nothing."
        ),
    )

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, kind_label(kind)) for kind in kinds]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        too_large = upload_too_large(upload.size)
        if too_large:
            raise forms.ValidationError(too_large, code="too_large")
        return upload


def _kinds(request: HttpRequest) -> list[str]:
    kinds = import_kinds_for(request.user)
    if not kinds:
        raise PermissionDenied
    return kinds


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    job = get_object_or_404(ImportJob, pk=job_id)
    if job.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    return job


def import_view(request: HttpRequest) -> HttpResponse:
    """GET: the form; POST: keep the file and run its dry run."""
    kinds = _kinds(request)
    form = ImportForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                user=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ImportJobError as error:
            form.add_error("kind", str(error))
        else:
            import_job_start(job=job)
            return HttpResponseRedirect(reverse("imports_import_job", args=[job.pk]))
    context = {
        **admin.site.each_context(request),
        "title": _("Import CSV"),
        "form": form,
        "formats": [(kind_label(f.kind), f) for f in kind_formats(kinds)],
        "recent": ImportJob.objects.filter(user=request.user)[:10],
    }
    return TemplateResponse(request, "admin/imports/import.html", context)


def import_job_view(request: HttpRequest, job_id: int) -> HttpResponse:
    """GET: a job's status, progress, counts and first rejected lines."""
    _kinds(request)
    job = _job(request, job_id)
    context = {
        **admin.site.each_context(request),
        "title": _("Dry run") if job.dry_run else _("Import"),
        "job": job,
        "kind_label": kind_label(job.kind),
        "running": job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING),
        "refusal": import_job_refusal(job=job, user=request.user),
        "has_rejected_file": job.rejected and Path(job.rejected_path).exists(),
    }
    return TemplateResponse(request, "admin/imports/import_job.html", context)


@require_POST
def import_confirm_view(request: HttpRequest, job_id: int) -> HttpResponseRedirect:
    _kinds(request)
    dry_run = _job(request, job_id)
    try:
        job = import_job_confirm(job=dry_run, user=request.user)
    except ImportJobError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("imports_import_job", args=[dry_run.pk]))
    import_job_start(job=job)
    return HttpResponseRedirect(reverse("imports_import_job", args=[job.pk]))


def import_rejected_view(request: HttpRequest, job_id: int) -> FileResponse:
    """The job's rejected rows as CSV: the original cells and a `reason` column."""
    _kinds(request)
    job = _job(request, job_id)
    path = Path(job.rejected_path)
    if not job.rejected or not path.exists():
        raise Http404
    name = f"{Path(job.file_name).stem}.rejected.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="text/csv")


def import_template_view(request: HttpRequest, kind: str) -> HttpResponse:
    """A kind's header row and one example row, to fill in (a kind the user may import)."""
    if kind not in _kinds(request):
        raise Http404
    response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
