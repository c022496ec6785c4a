"""Sites: a patient belongs to the site that imported it, a user sees the patients of
their sites. Submissions: the one-time token of each form posted, so that a form sent
twice (a double click, a reload) stores one entry.

Existing rows join the default site, so that a single-site workbench goes on unchanged.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patients", sa.Column("site", sa.String(32), nullable=False,
                                        server_default="main"))
    op.add_column("users", sa.Column("sites", sa.String(256), nullable=False,
                                     server_default="main"))
    op.create_table("submissions",
                    sa.Column("token", sa.String(64), primary_key=True),
                    sa.Column("session_id", sa.String(64), nullable=False),
                    sa.Column("at", sa.DateTime, nullable=False))


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_column("users", "sites")
    op.drop_column("patients", "site")
