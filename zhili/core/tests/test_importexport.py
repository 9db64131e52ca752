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


def test_an_import_records_one_create_per_run_of_keys_and_every_row_finds_it(admin_user, settings):
    """ADR 0006: a bulk create is recorded per run of consecutive keys, not per row."""
    from zhili.core.changes import history_for
    from zhili.core.models import ChangeAction, ChangeRecord

    small_batches(settings, batch_size=3)
    grid = make_grid()
    outsider = Resident.objects.create(name="外人", id_number=make_id_number(seq=60), grid=grid)
    lines = [f"居民{i},{make_id_number(seq=61 + i)},{grid.code}" for i in range(7)]
    result = run("name,id_number,grid\n" + "\n".join(lines) + "\n", admin_user)
    assert result.ok, result.errors
    records = list(ChangeRecord.objects.filter(action=ChangeAction.CREATE, object_last__isnull=False))
    assert [r.object_last - r.object_first + 1 for r in sorted(records, key=lambda r: r.object_first)] == [
        3,
        3,
        1,
    ]
    imported = list(Resident.objects.exclude(pk=outsider.pk).order_by("pk"))
    for resident in imported:
        [created] = history_for(resident)
        assert created.object_first <= resident.pk <= created.object_last
        assert created.user == admin_user and created.action == ChangeAction.CREATE
    assert not history_for(outsider).filter(object_last__isnull=False).exists()
    first_run = min(records, key=lambda r: r.object_first)
    assert (
        first_run.object_repr == "居民0 … 居民2 (3)"
        and first_run.object_id == f"{imported[0].pk}-{imported[2].pk}"
    )


def test_keys_with_a_gap_are_recorded_as_separate_runs(admin_user):
    """Another session may take keys of the same sequence between two of ours (PostgreSQL)."""
    from zhili.core.changes import consecutive_runs, history_for, record_bulk_create

    grid = make_grid()
    residents = [
        Resident.objects.create(name=f"隔{i}", id_number=make_id_number(seq=80 + i), grid=grid)
        for i in range(5)
    ]
    taken_by_someone_else = residents.pop(2)
    assert [[r.pk for r in run] for run in consecutive_runs(residents[::-1])] == [
        [residents[0].pk, residents[1].pk],
        [residents[2].pk, residents[3].pk],
    ]
    record_bulk_create(residents, user=admin_user, message="批量")
    assert history_for(taken_by_someone_else).filter(message="批量").count() == 0
    assert all(history_for(r).filter(message="批量").count() == 1 for r in residents)


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


def test_cells_of_several_columns_and_rows_are_each_reported_in_row_then_column_order(admin_user):
    """The report lists every failing cell, by row and, within a row, in the file's column order,
    with the coordinate error last (whatever order the importer converts cells in)."""
    from zhili.orgs.models import BusinessUnit
    from zhili.orgs.tests.factories import make_uscc

    text = (
        "name,uscc,unit_type,status,longitude,latitude\n"
        f"好店,{make_uscc('92')},individual,operating,119.93,30.23\n"
        f"坏码,91330106MA0000000X,no-such-type,operating,119.93,north\n"
        f"坏类,{make_uscc('92')},no-such-type,operating,119.93,30.23\n"
        f"{'长' * 300},{make_uscc('92')},individual,operating,,\n"
        f"好店2,{make_uscc('92')},individual,operating,119.94,30.24\n"
    )
    file = upload(text)
    with translation.override("en"):
        result = import_file(registry.get(BusinessUnit), file, file.name, admin_user)
    assert not result.ok
    fields = [(e.row, e.field) for e in result.errors]
    assert fields == [
        (3, "unified social credit code"),
        (3, "unit type"),
        (3, "Longitude/Latitude"),
        (4, "unit type"),
        (5, "name"),
        (5, "Longitude/Latitude"),
    ], result.errors
    assert result.error_count == 6
    assert BusinessUnit.objects.count() == 0


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


def test_the_fast_text_converters_give_the_general_converters_values_and_errors():
    """``ColumnConverter.fast`` is an optimisation only: for every import column of every
    registered model it returns what ``__call__`` returns, or raises the same error."""
    import datetime

    from django.core.exceptions import ValidationError

    from zhili.core.importexport import ColumnConverter, import_columns

    samples = ["", "   ", "abc", " 张三 ", "x" * 300, "a\x00b", "care", "关爱", "是", "否", "1", "2024-05-06",
               make_id_number(seq=3), "11010519491231002Y", " Permanent ", "常住", 12, 3.0, None]  # fmt: skip

    def outcome(convert, raw):
        try:
            value = convert(raw)
            # An empty cell of a column whose default is "now" gives two different instants.
            return ("value", type(value) if isinstance(value, datetime.datetime) else value)
        except ValidationError as exc:
            return ("error", exc.messages)

    specialised = 0
    for entry in registry:
        for field_obj in import_columns(entry):
            converter = ColumnConverter(field_obj)
            fast = converter.fast()
            specialised += fast != converter.__call__
            for raw in samples:
                assert outcome(fast, raw) == outcome(converter, raw), (entry.label, field_obj.name, raw)
    assert specialised > 50  # text, choice and key columns of the registered models
