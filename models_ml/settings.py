"""Knobs of a forecast run, passed explicitly so a run is reproducible from its settings."""

from dataclasses import dataclass

# The ladder's rung names (ladder.ALL_MODELS); spelled out here because the ladder imports
# these settings.
ALL_MODELS = (
    "seasonal_naive",
    "weekday_quantile",
    "moving_average",
    "exp_smoothing",
    "log_smoothing",
    "croston_tsb",
    "prophet",
    "ensemble",
)


@dataclass(frozen=True)
class ForecastSettings:
    """How forecast_series and forecast_all fit and fan out.

    country_holidays: learn a public-holiday effect from the market country's holidays.
    workers: processes for forecast_all; 1 runs every series inline in the calling process.
    low_quantile / high_quantile: the range shown to the vendor (units_low, units_high).
    min_history: observed market days below which a series is not backtested: it gets its
        vendor's category prior (priors) or the recent_quantile baseline.
    baseline_window: how many of the latest market days that baseline looks at.
    yearly_min_span_days: history span needed before a yearly seasonality is fitted; with less
        than a year, "summer" and "sales grew" cannot be told apart.
    yearly_fourier_order: smoothness of that seasonality. Weekly market days give ~52 points a
        year, too few for Prophet's default order 10 (20 coefficients).
    regressor_prior_scale: prior scale of the weather, event and holiday coefficients; tighter
        than Prophet's default 10 so a handful of rainy days cannot produce absurd effects.
    seed: seeds Prophet's optimiser, so reruns and worker counts agree.
    models: the ladder's rungs to choose from (ladder.ALL_MODELS); one name forces that model.
    """

    country_holidays: bool = True
    workers: int = 2
    low_quantile: float = 0.1
    high_quantile: float = 0.9
    min_history: int = 8
    baseline_window: int = 8
    yearly_min_span_days: int = 365
    yearly_fourier_order: int = 3
    regressor_prior_scale: float = 0.5
    seed: int = 0
    models: tuple[str, ...] = ALL_MODELS

    def __post_init__(self) -> None:
        if not 0 < self.low_quantile < 0.5 < self.high_quantile < 1:
            raise ValueError(
                "need 0 < low_quantile < 0.5 < high_quantile < 1, got "
                f"low_quantile={self.low_quantile}, high_quantile={self.high_quantile}"
            )
        minimums = {
            "workers": 1,
            # Prophet cannot fit fewer than 2 points; the baseline covers shorter histories.
            "min_history": 2,
            "baseline_window": 1,
            "yearly_fourier_order": 1,
        }
        for name, minimum in minimums.items():
            if getattr(self, name) < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {getattr(self, name)}")
        unknown = sorted(set(self.models) - set(ALL_MODELS))
        if unknown or not self.models:
            raise ValueError(
                f"models must be a non-empty selection of {list(ALL_MODELS)}, got {list(self.models)}"
            )
        if self.regressor_prior_scale <= 0:
            raise ValueError(
                f"regressor_prior_scale must be positive, got {self.regressor_prior_scale}"
            )
