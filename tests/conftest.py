from hypothesis import HealthCheck, settings

# Machines here are shared and noisy: no per-example deadline, a fixed example budget.
settings.register_profile(
    "default", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")
