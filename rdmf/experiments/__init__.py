"""Experiments and reports: protocols per profile, the resumable shard runner,
tables beside the published numbers, the README headline block. See docs/experiments.md."""

from .protocols import (ABLATIONS, FUSIONS, GROUPS, PROFILES, Budget, Shard, budget,  # noqa: F401
                        deviations, shard_config, shards)
from .runner import load_results, run_group, run_shard, select  # noqa: F401
