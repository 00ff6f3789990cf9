"""Entry script for ``spark-submit``: run ``creditlimit score --engine spark`` on a cluster.

``spark-submit --master <url> creditlimit/pipelines/spark_submit.py --as-of 2026-01-01``
takes the same options as ``creditlimit score``; the engine is always Spark and
the master is the one ``spark-submit`` was given. See docs/spark.md.
"""

import sys

__all__ = ["HELP", "main"]

HELP = {
    "cli.opt_engine": {
        "en": "Where to score: local (DuckDB and pandas in this process) or spark "
              "(Spark, master from spark-submit or CREDITLIMIT_SPARK_MASTER; see docs/spark.md).",
        "zh_CN": "评分引擎：local（在本进程中用 DuckDB 和 pandas）或 spark"
                 "（Spark，主节点取自 spark-submit 或 CREDITLIMIT_SPARK_MASTER；见 docs/spark.md）。",
    },
}


def main(argv: list[str] | None = None) -> None:
    """Run ``creditlimit score --engine spark`` with the given options."""
    from creditlimit.pipelines.cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["creditlimit", "score", "--engine", "spark", *args]
    cli_main()


if __name__ == "__main__":
    main()
