"""Import and export pages of every registered model."""

import tempfile

from django import forms
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhili.core import audit
from zhili.core.filtersets import filtered_queryset
from zhili.core.importexport import (
    ImportFileError,
    csv_stream,
    export_rows,
    import_file,
    template_headers,
    write_xlsx,
)
from zhili.core.views.generic import EntryView


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}),
    )


def _filename(entry, ext: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return f"{entry.model_name}-{stamp}.{ext}"


def table_response(rows, filename: str, fmt: str):
    """Return rows as a CSV (streamed) or XLSX download."""
    if fmt == "xlsx":
        tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
        write_xlsx(rows, tmp)
        tmp.seek(0)
        return FileResponse(
            tmp,
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ImportTemplateView(EntryView):
    action = "import"

    def get(self, request):
        fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
        return table_response([template_headers(self.entry)], f"{self.entry.model_name}-template.{fmt}", fmt)


class ImportView(EntryView):
    action = "import"
    template_name = "core/object_import.html"

    def get(self, request):
        return render(
            request, self.template_name, self.context(form=ImportForm(), headers=template_headers(self.entry))
        )

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        result, file_error = None, None
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = import_file(self.entry, upload, upload.name, request.user)
            except ImportFileError as exc:
                file_error = str(exc)
                audit.emit(
                    "data.import",
                    user=request.user,
                    success=False,
                    details={"model": self.entry.label, "file": upload.name, "error": file_error},
                )
        status = 200 if result is not None and result.ok else 400
        return render(
            request,
            self.template_name,
            self.context(
                form=form, result=result, file_error=file_error, headers=template_headers(self.entry)
            ),
            status=status,
        )


class ExportView(EntryView):
    action = "export"

    def get(self, request):
        fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        _filterset, queryset = filtered_queryset(self.entry, request, "export")
        queryset = queryset.order_by(*self.entry.ordering)
        audit.emit(
            "data.export",
            user=request.user,
            details={
                "model": self.entry.label,
                "format": fmt,
                "filters": {k: v for k, v in request.GET.items() if k != "format"},
            },
        )
        return table_response(
            export_rows(self.entry, queryset, request.user), _filename(self.entry, fmt), fmt
        )


__all__ = ["ExportView", "ImportTemplateView", "ImportView", "_"]
