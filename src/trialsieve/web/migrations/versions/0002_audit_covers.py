"""The audit trail covers the rows each change wrote (their content hashes), so that a
clinical row edited in the database no longer matches its audit entry.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a column is not an UPDATE or DELETE of a row: the append-only triggers stay.
    op.add_column("audit", sa.Column("covers", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("audit", "covers")
