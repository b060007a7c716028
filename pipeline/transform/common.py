"""Small DataFrame helpers shared by Silver and Gold."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def latest(df: DataFrame, keys: Sequence[str], order: Sequence[Column]) -> DataFrame:
    """One row per `keys`: the first by `order` (pass descending columns: latest first)."""
    window = Window.partitionBy(*keys).orderBy(*order)
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


# Latest extraction first: within a load date, the later run, then the later page, then the
# later position in the page.
def silver_order() -> tuple[Column, ...]:
    return (
        F.col("extracted_at").desc_nulls_last(),
        F.col("run_id").desc_nulls_last(),
        F.col("_part_no").desc_nulls_last(),
        F.col("_position").desc_nulls_last(),
    )


# Across load dates (Gold reads several Silver partitions): the later load date first.
def gold_order() -> tuple[Column, ...]:
    return (
        F.col("load_date").desc_nulls_last(),
        F.col("extracted_at").desc_nulls_last(),
        F.col("run_id").desc_nulls_last(),
    )
