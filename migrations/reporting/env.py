from alembic import context

from kkb.migrate import run_env

run_env(context)
