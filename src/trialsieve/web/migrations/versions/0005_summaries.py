"""Summaries: one row per patient for the patient list (name, MRN, the verdict on a
screening date and the record hash it was computed from), so that a list page is one
query, not the page's records loaded, hashed and screened on every load. A cache: any
write to a patient's record or planned dates marks its row stale (web.summary).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("summaries",
                    sa.Column("patient_id", sa.Integer, sa.ForeignKey("patients.id"),
                              primary_key=True),
                    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("name", sa.Text, nullable=False, server_default=""),
                    sa.Column("mrn", sa.String(128), nullable=False, server_default=""),
                    sa.Column("record_hash", sa.String(80), nullable=True),
                    sa.Column("protocol_hash", sa.String(64), nullable=True),
                    sa.Column("as_of", sa.Date, nullable=True),
                    sa.Column("inclusion", sa.Date, nullable=True),
                    sa.Column("d0", sa.Date, nullable=True),
                    sa.Column("verdict", sa.String(16), nullable=True),
                    sa.Column("unknown", sa.Integer, nullable=True),
                    sa.Column("blocking", sa.Integer, nullable=True),
                    sa.Column("mac", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_table("summaries")
