"""User lifecycle: a password to change at first login, a one-time reset token (its hash
only), and failed logins throttled per user name and address (the attempts already say
both), not per account.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("must_change", sa.Boolean, nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("reset_hash", sa.String(64), nullable=True))
    op.add_column("users", sa.Column("reset_until", sa.DateTime, nullable=True))
    op.add_column("users", sa.Column("unlocked_at", sa.DateTime, nullable=True))
    op.create_index("login_attempts_who", "login_attempts", ["username", "ip", "at"])


def downgrade() -> None:
    op.drop_index("login_attempts_who", "login_attempts")
    for col in ("unlocked_at", "reset_until", "reset_hash", "must_change"):
        op.drop_column("users", col)
