"""The centre of packzoo: instances, packings, the EMS engine and the Gymnasium environments."""

from packzoo.envs.binpack import ENV_IDS, BinPack3DEnv, BinPack3DPlaceEnv, InvalidActionError, ResetNeededError
from packzoo.envs.ems import EMSState, evaluate_orders
from packzoo.envs.generators import (
    Stream,
    checksum,
    cube_cut,
    cube_set_solutions,
    instance_set,
    known_optimum,
    orders,
    set_names,
    uniform,
)
from packzoo.envs.files import read_csv, read_instance, read_instances
from packzoo.envs.instance import ORIENTATIONS, Instance, InstanceError
from packzoo.envs.packing import Packing, PackingError, Placement, lower_bound, surface_area, validate

__all__ = [
    "read_csv",
    "read_instance",
    "read_instances",
    "ENV_IDS",
    "BinPack3DEnv",
    "BinPack3DPlaceEnv",
    "EMSState",
    "Instance",
    "InstanceError",
    "InvalidActionError",
    "ResetNeededError",
    "ORIENTATIONS",
    "Packing",
    "PackingError",
    "Placement",
    "Stream",
    "checksum",
    "cube_cut",
    "cube_set_solutions",
    "evaluate_orders",
    "instance_set",
    "known_optimum",
    "lower_bound",
    "orders",
    "set_names",
    "surface_area",
    "uniform",
    "validate",
]
