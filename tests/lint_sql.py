"""`sqlfluff` as `make lint` runs it, with dbt's sqlparse limits.

dbt's CLI lifts sqlparse's 10,000-token grouping limit (its `--sqlparse` default), which it
needs to inject an ephemeral model (gold.ml_security_sessions) into a long model
(gold.ml_features). sqlfluff's dbt templater calls dbt without that CLI, so the limit would
stay and the file would be skipped as uncompilable: apply dbt's default first.

    python -m tests.lint_sql lint dbt_project/models
"""

import sqlparse.engine.grouping
from sqlfluff.cli.commands import cli

if __name__ == "__main__":
    sqlparse.engine.grouping.MAX_GROUPING_TOKENS = None
    sqlparse.engine.grouping.MAX_GROUPING_DEPTH = None
    cli()
