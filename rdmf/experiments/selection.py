"""Model selection of the benchmark: each model's grid point, chosen on val only.

``bench_grid`` trains every model (fusions and floors) at every point of the same small grid
(learning rate × width, seed 0). A model's grid point is the one with the best val value of the
group's selection metric at its best-val epoch; ties go to the earlier point in the grid order.
A model is selected only once every one of its grid shards has a stored result, so that a
partial grid never picks a point that a later run would beat. Test metrics play no part.
"""

from __future__ import annotations

from .protocols import SELECTION_METRIC, Shard, budget, grid_results, selected_points, shards

__all__ = ["SELECTION_METRIC", "grid_results", "selected_points", "selection_table", "bench_shard_of"]


def selection_table(profile: str, results: dict | None = None) -> dict:
    """What the grid measured and chose, for the reports: per model, the val value of every grid
    point and the selected one."""
    grid = grid_results(profile, results)
    chosen = selected_points(profile, results)
    b = budget(profile, "bench_grid")
    return {"metric": f"val {SELECTION_METRIC} at the best-val epoch", "grid": {k: list(v) for k, v in b.grid.items()},
            "epochs": b.epochs, "seed": b.seeds[0],
            "models": {m: {"val": points, "selected": chosen.get(m)} for m, points in grid.items()}}


def bench_shard_of(profile: str, model: str, seed: int, variant: str = "default") -> Shard | None:
    """The ``bench`` shard of a model and seed (None while its grid is unfinished)."""
    for shard in shards(profile, "bench"):
        if shard.fusion == model and shard.seed == seed and shard.variant == variant:
            return shard
    return None
