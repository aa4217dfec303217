"""Exact row counts of catalog_song and catalog_album, kept by triggers (RowCount)."""

from django.db import migrations, models

COUNTED = ("catalog_song", "catalog_album")

POSTGRES_FUNCTIONS = """
CREATE FUNCTION catalog_rowcount_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_rowcount SET row_count = row_count + (SELECT count(*) FROM new_rows)
    WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
CREATE FUNCTION catalog_rowcount_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_rowcount SET row_count = row_count - (SELECT count(*) FROM old_rows)
    WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
CREATE FUNCTION catalog_rowcount_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_rowcount SET row_count = 0 WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""

# Statement-level with transition tables: one update per statement, so a COPY of a million
# rows costs one update, not a million.
POSTGRES_TRIGGERS = """
CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION catalog_rowcount_insert();
CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION catalog_rowcount_delete();
CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_rowcount_truncate();
"""

SQLITE_TRIGGERS = """
CREATE TRIGGER {table}_count_insert AFTER INSERT ON {table} BEGIN
    UPDATE catalog_rowcount SET row_count = row_count + 1 WHERE table_name = '{table}';
END;
CREATE TRIGGER {table}_count_delete AFTER DELETE ON {table} BEGIN
    UPDATE catalog_rowcount SET row_count = row_count - 1 WHERE table_name = '{table}';
END;
"""


def install(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTIONS)
        for table in COUNTED:
            # The count and the triggers in one transaction: no write falls between them.
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute(POSTGRES_TRIGGERS.format(table=table))
            else:
                for statement in SQLITE_TRIGGERS.format(table=table).split("END;")[:-1]:
                    cursor.execute(statement + "END;")
            cursor.execute(
                f"INSERT INTO catalog_rowcount (table_name, row_count) "  # noqa: S608
                f"SELECT '{table}', count(*) FROM {table}"
            )


def uninstall(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in COUNTED:
            for event in ("insert", "delete", "truncate"):
                if connection.vendor == "postgresql":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_count_{event} ON {table}")
                else:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_count_{event}")
        if connection.vendor == "postgresql":
            for event in ("insert", "delete", "truncate"):
                cursor.execute(f"DROP FUNCTION IF EXISTS catalog_rowcount_{event}()")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="RowCount",
            fields=[
                (
                    "table_name",
                    models.CharField(max_length=63, primary_key=True, serialize=False),
                ),
                ("row_count", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
