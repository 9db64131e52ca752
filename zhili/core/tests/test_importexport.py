"""Import details shared by every model: encodings, labels, formats, relations, duplicates (R-11.1)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from zhili.core.importexport import ImportFileError, detect_encoding, import_file, parse_date
from zhili.core.registry import registry
from zhili.people.models import Resident
from zhili.places.tests.factories import make_grid, make_id_number

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-11.1")]


def upload(text: str, encoding="utf-8", name="r.csv"):
    return SimpleUploadedFile(name, text.encode(encoding))


def run(text, user, encoding="utf-8"):
    file = upload(text, encoding)
    return import_file(registry.get(Resident), file, file.name, user)


def test_gbk_and_utf8_are_detected():
    assert detect_encoding("姓名,身份证号".encode("gbk")) == "gb18030"
    assert detect_encoding("姓名,身份证号".encode()) == "utf-8-sig"
    # A multi-byte character cut at the end of the sample is not mistaken for GBK.
    assert detect_encoding("姓名".encode()[:-1]) == "utf-8-sig"


def test_chinese_headers_and_choice_labels_in_both_languages(admin_user):
    grid = make_grid()
    with translation.override("zh-hans"):
        sex_label = str(Resident._meta.get_field("residence_type").verbose_name)
    text = (
        f"name,id_number,grid,{sex_label},political_status,status\n"
        f"甲,{make_id_number(seq=21)},{grid.code},registered,masses,active\n"
        f"乙,{make_id_number(seq=22)},{grid.code},Floating population,CPC member,Living here\n"
    )
    result = run(text, admin_user, "gbk")
    assert result.ok, result.errors
    assert Resident.objects.get(name="乙").residence_type == "floating"
    assert Resident.objects.get(name="乙").political_status == "party"


def test_every_bad_row_is_reported_and_nothing_is_saved(admin_user):
    grid = make_grid()
    good = make_id_number(seq=31)
    text = (
        "name,id_number,grid\n"
        f"好,{good},{grid.code}\n"
        f"坏1,110105194912310021,{grid.code}\n"
        f"坏2,{make_id_number(seq=33)},NO-SUCH-GRID\n"
        f"重复,{good},{grid.code}\n"
    )
    result = run(text, admin_user)
    assert not result.ok
    assert {e.row for e in result.errors} == {3, 4, 5}
    assert Resident.objects.count() == 0


def test_missing_required_column_and_empty_files_are_file_errors(admin_user):
    with pytest.raises(ImportFileError):
        run("grid\nG1\n", admin_user)
    with pytest.raises(ImportFileError):
        run("", admin_user)
    with pytest.raises(ImportFileError):
        run("name,id_number\n", admin_user)


def test_dates_in_the_forms_offices_use():
    assert str(parse_date("2024/6/1")) == "2024-06-01"
    assert str(parse_date("2024年6月1日")) == "2024-06-01"
    assert str(parse_date("20240601")) == "2024-06-01"
    with pytest.raises(Exception):  # noqa: B017,PT011
        parse_date("2024-02-30")


def test_export_is_re_importable(admin_client, admin_user):
    grid = make_grid()
    text = f"name,id_number,grid,residence_type\n丙,{make_id_number(seq=41)},{grid.code},floating\n"
    assert run(text, admin_user).ok
    response = admin_client.get("/people/resident/export/?format=csv")
    exported = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "丙" in exported and grid.code in exported
    Resident.objects.all().delete()
    result = run(exported, admin_user)
    assert result.ok, result.errors
    again = Resident.objects.get()
    assert (again.name, again.grid, again.residence_type) == ("丙", grid, "floating")


def test_nul_characters_are_refused_on_every_database(admin_user):
    grid = make_grid()
    text = f"name,id_number,grid,tags\n甲,{make_id_number(seq=51)},{grid.code}\x00,独居\x00老人\n"
    with pytest.raises(ImportFileError):
        run(text, admin_user)
    assert Resident.objects.count() == 0


def test_imported_rows_have_a_create_record_and_their_first_edit_keeps_the_imported_values(admin_user):
    """Bulk creates write a create record without a data copy; the first edit's "before" holds it."""
    from zhili.core.changes import history_for, record_change, snapshot
    from zhili.core.models import ChangeAction

    grid = make_grid()
    result = run(f"name,id_number,grid\n王五,{make_id_number(seq=41)},{grid.code}\n", admin_user)
    assert result.ok, result.errors
    resident = Resident.objects.get(name="王五")
    [created] = history_for(resident)
    assert created.action == ChangeAction.CREATE and created.postchange_data is None
    assert created.user == admin_user and created.message
    before = snapshot(resident)
    resident.name = "王五六"
    resident.save()
    record_change(resident, ChangeAction.UPDATE, user=admin_user, prechange=before)
    update = history_for(resident).first()
    assert update.prechange_data["name"] == "王五" and update.prechange_data["grid_id"] == grid.pk
    assert ("name", "王五", "王五六") in update.diff()


def small_batches(settings, batch_size: int, max_errors: int = 500) -> None:
    settings.ZHILI = {**settings.ZHILI, "IMPORT_BATCH_SIZE": batch_size, "IMPORT_MAX_ERRORS": max_errors}


def test_errors_are_reported_in_row_order_and_the_limit_keeps_the_first_rows(admin_user, settings):
    """Errors arrive out of row order (cells are converted before a batch's lookups, and the next
    batch is converted while this one is written); the report is in row order all the same."""
    small_batches(settings, batch_size=3, max_errors=1)
    grid = make_grid()
    lines = [f"甲{n},{make_id_number(seq=60 + n)},{grid.code},registered" for n in range(9)]
    # Row 5's grid is looked up after row 7's cells are converted (lookups go per batch).
    lines[3] = f"无网格,{make_id_number(seq=89)},NO-SUCH-GRID,registered"
    lines[5] = f"坏类,{make_id_number(seq=90)},{grid.code},no-such-type"
    text = "name,id_number,grid,residence_type\n" + "\n".join(lines) + "\n"
    result = run(text, admin_user)
    assert result.error_count == 2
    assert [e.row for e in result.errors] == [5]
    small_batches(settings, batch_size=3, max_errors=10)
    result = run(text, admin_user)
    assert [e.row for e in result.errors] == [5, 7]
    assert Resident.objects.count() == 0


def test_a_file_error_in_a_later_batch_saves_nothing(admin_user, settings):
    """Row 10 is read while rows 5-7 are written (a field past the CSV module's size limit)."""
    small_batches(settings, batch_size=3)
    grid = make_grid()
    lines = [f"甲{n},{make_id_number(seq=70 + n)},{grid.code}" for n in range(8)]
    lines.append(f'"{"长" * 140_000}",{make_id_number(seq=80)},{grid.code}')
    with pytest.raises(ImportFileError, match="10"):
        run("name,id_number,grid\n" + "\n".join(lines) + "\n", admin_user)
    assert Resident.objects.count() == 0
    from zhili.core.models import ChangeRecord

    assert not ChangeRecord.objects.exists()
