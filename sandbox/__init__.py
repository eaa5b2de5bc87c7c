"""The MarketPrep sandbox: a seeded market simulator and local fake APIs that speak Square's,
Open-Meteo's and PredictHQ's exact wire formats, for the demo and the tests.

- `sandbox.simulator`: `SimConfig`, `build_world` (the `World` records are in `sandbox.world`).
- `sandbox.servers`: `start_square`, `start_open_meteo`, `start_predicthq`, `start_sandbox`.
- `sandbox.fake_http`: the server, its request log and fault injection (`FaultPlan`).
- `sandbox.spec`: validation against the providers' OpenAPI extracts in shared/api-samples.
"""
