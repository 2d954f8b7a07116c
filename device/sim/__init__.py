"""The virtual patient: a simulated person on a simulated mat and insoles.

Public API (see docs/virtual-patient.md)::

    from device.sim import VirtualPatient, Body, MatGeometry, InsoleGeometry, SensorModel, SCENARIOS
    p = VirtualPatient(scenario="quiet", seed=1, body=Body(mass_kg=80))
    s = p.sample(1.0)            # PatientSample: the truth (kPa, forces, COPs) at t = 1 s
    p.mat_counts(s)              # uint16 through the mat's sensor model
    p.insole_counts(s, "left")
    p.set_target(x_mm, y_mm); p.set_weight_share(60)
    p.events_until(t)            # [(t, side, "contact"|"off"), ...]
"""

from device.sim.body import Body
from device.sim.errors import SimulationError
from device.sim.feet import GaitEvent
from device.sim.insole import InsoleGeometry
from device.sim.mat import MatGeometry
from device.sim.patient import FootSample, PatientSample, VirtualPatient
from device.sim.scenarios import SCENARIOS, ScenarioInfo
from device.sim.sensors import SensorModel

__all__ = [
    "SCENARIOS",
    "Body",
    "FootSample",
    "GaitEvent",
    "InsoleGeometry",
    "MatGeometry",
    "PatientSample",
    "ScenarioInfo",
    "SensorModel",
    "SimulationError",
    "VirtualPatient",
]
