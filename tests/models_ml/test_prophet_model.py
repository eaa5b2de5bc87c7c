"""The fitted model is evaluated directly (no predict()); it must agree with Prophet's own numbers."""

import numpy as np
import pandas as pd

from models_ml import prophet_model
from models_ml.settings import ForecastSettings


def test_direct_evaluation_matches_prophets_predict(two_years, monkeypatch):
    history, future = two_years[~two_years["is_future"]], two_years[two_years["is_future"]]
    seen = {}
    evaluate = prophet_model._predict

    def keep(model, past, ahead, components):
        seen.update(model=model, frame=pd.concat([past, ahead], ignore_index=True))
        return evaluate(model, past, ahead, components)

    monkeypatch.setattr(prophet_model, "_predict", keep)
    fit = prophet_model.fit_predict(history, future, ForecastSettings(workers=1))
    reference = seen["model"].predict(seen["frame"])
    ours = np.concatenate([fit.fitted, fit.forecast])
    np.testing.assert_allclose(ours, reference["yhat"].clip(lower=0), rtol=1e-9, atol=1e-9)
    assert len(fit.forecast) == len(future) and len(fit.drivers) == len(future)


def test_a_short_series_without_covariates_is_a_trend(make_series):
    # Ten Saturdays, no weather, events or holiday calendar: nothing but a trend to fit.
    series = make_series(10).assign(
        precip_mm=np.nan, temp_max_c=np.nan, event_attendance=np.nan, country=None
    )
    history, future = series[~series["is_future"]], series[series["is_future"]]
    fit = prophet_model.fit_predict(history, future, ForecastSettings(workers=1))
    assert np.isfinite(fit.forecast).all() and (fit.forecast > 0).all()
    assert [set(day) for day in fit.drivers] == [{"trend"}, {"trend"}]
