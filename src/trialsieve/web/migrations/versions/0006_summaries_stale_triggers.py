"""Summaries made stale by the database itself: any INSERT, UPDATE or DELETE of a
patient's resources (its record, the answers entered here) or an UPDATE of the patient
(its planned dates) bumps the version of the patient's list row and clears its verdict,
in the same statement's transaction. A row edited in the database behind the app (a
lab value changed by hand) is then computed again at the next list load, as any write
through the app already was. Replaces the app's own flush hook: one rule, wherever the
write comes from. Also two columns of the summaries, so that the screening log and the
investigator's worklist read them instead of screening every patient: the reasons for
non-inclusion and the questions waiting on an investigator.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STALE = "UPDATE summaries SET version = version + 1, verdict = NULL, mac = NULL"
# every patient has its row from the start, however it was added (the list then counts
# patients without a join; the name and MRN are filled by the import, or when computed)
BORN = ("INSERT INTO summaries (patient_id, version, name, mrn) "
        "VALUES (NEW.id, 0, '', '')")
SQLITE = {
    "resources_stale_insert": f"AFTER INSERT ON resources BEGIN {STALE} "
                              "WHERE patient_id = NEW.patient_id; END",
    "resources_stale_update": f"AFTER UPDATE ON resources BEGIN {STALE} "
                              "WHERE patient_id IN (OLD.patient_id, NEW.patient_id); END",
    "resources_stale_delete": f"AFTER DELETE ON resources BEGIN {STALE} "
                              "WHERE patient_id = OLD.patient_id; END",
    "patients_stale_update": f"AFTER UPDATE ON patients BEGIN {STALE} "
                             "WHERE patient_id = NEW.id; END",
    "patients_summary_insert": f"AFTER INSERT ON patients BEGIN {BORN}; END",
}


def upgrade() -> None:
    # rows computed before have neither: their MAC (web.summary) no longer fits, so each
    # is computed again at its next load
    op.add_column("summaries", sa.Column("reasons", sa.Text, nullable=True))
    op.add_column("summaries", sa.Column("asks", sa.Text, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION summaries_stale() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_TABLE_NAME = 'patients' AND TG_OP = 'INSERT' THEN
                {BORN};
              ELSIF TG_TABLE_NAME = 'patients' THEN
                {STALE} WHERE patient_id = NEW.id;
              ELSE
                IF TG_OP <> 'INSERT' THEN {STALE} WHERE patient_id = OLD.patient_id; END IF;
                IF TG_OP <> 'DELETE' THEN {STALE} WHERE patient_id = NEW.patient_id; END IF;
              END IF;
              RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER resources_stale AFTER INSERT OR UPDATE OR DELETE ON "
                   "resources FOR EACH ROW EXECUTE FUNCTION summaries_stale()")
        op.execute("CREATE TRIGGER patients_stale AFTER INSERT OR UPDATE ON patients "
                   "FOR EACH ROW EXECUTE FUNCTION summaries_stale()")
    else:
        for name, body in SQLITE.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    _rows_of_earlier_patients()


def _rows_of_earlier_patients() -> None:
    """The rows of patients imported before (the app made them at the first list load),
    with name and MRN from each one's Patient resource."""
    from sqlalchemy.orm import Session

    from trialsieve.web import summary

    with Session(bind=op.get_bind()) as s:
        sites = [site for site, in s.execute(sa.text("SELECT DISTINCT site FROM patients"))]
        if sites:
            summary.ensure(s, tuple(sites))
        s.flush()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS resources_stale ON resources")
        op.execute("DROP TRIGGER IF EXISTS patients_stale ON patients")
        op.execute("DROP FUNCTION IF EXISTS summaries_stale()")
    else:
        for name in SQLITE:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("summaries") as batch:
        batch.drop_column("asks")
        batch.drop_column("reasons")
