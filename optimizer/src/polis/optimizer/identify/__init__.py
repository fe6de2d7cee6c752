"""Zone models learned from measured history (pure numpy/scipy, no I/O).

See docs/commissioning.md for the model structures, what is identified and what is assumed,
and the acceptance thresholds.
"""

from polis.optimizer.identify.clean import clean, stuck_mask
from polis.optimizer.identify.cop import DEFAULT_COP, CopLine, CopSource, cop_from_submeter
from polis.optimizer.identify.rc import Fit, ZoneModel, fit_1r1c, simulate
from polis.optimizer.identify.rc2 import ZoneModel2, fit_2r2c
from polis.optimizer.identify.series import ZoneSeries, power_from_counter
from polis.optimizer.identify.validate import CV_LIMIT, RMSE_LIMIT_K, Validation, validate
from polis.optimizer.identify.zone import Identification, identify_zone

__all__ = [
    "CV_LIMIT",
    "DEFAULT_COP",
    "RMSE_LIMIT_K",
    "CopLine",
    "CopSource",
    "Fit",
    "Identification",
    "Validation",
    "ZoneModel",
    "ZoneModel2",
    "ZoneSeries",
    "clean",
    "cop_from_submeter",
    "fit_1r1c",
    "fit_2r2c",
    "identify_zone",
    "power_from_counter",
    "simulate",
    "stuck_mask",
    "validate",
]
