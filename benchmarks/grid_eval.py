"""100x100 decision-grid evaluations per second for a 2-8-8-1 tanh network (what each live
boundary refresh costs), output only and with every hidden neuron's map."""

from __future__ import annotations

from common import median_rate

from core.data.features import grid_points
from core.model import Sequential
from core.spec import mlp_spec


def main() -> None:
    model = Sequential(mlp_spec(2, [8, 8], 1, activation="tanh", loss="sigmoid_bce"), seed=0)
    grid = grid_points(100)
    reps = 200

    def output() -> int:
        for _ in range(reps):
            model.predict_proba(grid)
        return reps

    def with_neurons() -> int:
        for _ in range(reps):
            model.forward_collect(grid)
        return reps

    print(
        f"grid 100x100 2-8-8-1 tanh: {median_rate(output):,.0f} grids/s output, "
        f"{median_rate(with_neurons):,.0f} grids/s with all neuron maps"
    )


if __name__ == "__main__":
    main()
