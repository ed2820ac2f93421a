"""The centre of packzoo: instances, packings, the EMS engine and the Gymnasium environments."""

from packzoo.envs import literature
from packzoo.envs.binpack import (
    ENV_IDS,
    FAMILIES,
    MODE_DEFAULTS,
    BinPack3DEnv,
    BinPack3DPlaceEnv,
    InstanceGenerator,
    InvalidActionError,
    ResetNeededError,
)
from packzoo.envs.online import DEFAULT_SUPPORT, BinPack3DOnlineEnv
from packzoo.envs.ems import EMSState, evaluate_orders
from packzoo.envs.generators import (
    Stream,
    bins_cut,
    checksum,
    container_cut,
    cube_cut,
    cube_set_solutions,
    instance_set,
    known_optimum,
    orders,
    set_names,
    uniform,
)
from packzoo.envs.fixed import PLACEMENT_RULES, NoPlacementError, PackState
from packzoo.envs.fixed import pack_order as pack_order_fixed
from packzoo.envs.files import read_csv, read_instance, read_instances
from packzoo.envs.instance import MODES, ORIENTATIONS, UPRIGHT, Instance, InstanceError
from packzoo.envs.packing import (
    Packing,
    PackingError,
    Placement,
    bins_lower_bound,
    bound,
    height_lower_bound,
    lower_bound,
    surface_area,
    surface_lower_bound,
    validate,
)

__all__ = [
    "read_csv",
    "read_instance",
    "read_instances",
    "ENV_IDS",
    "FAMILIES",
    "MODE_DEFAULTS",
    "BinPack3DOnlineEnv",
    "DEFAULT_SUPPORT",
    "InstanceGenerator",
    "literature",
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
    "PLACEMENT_RULES",
    "NoPlacementError",
    "PackState",
    "pack_order_fixed",
    "MODES",
    "UPRIGHT",
    "bins_cut",
    "bins_lower_bound",
    "bound",
    "container_cut",
    "height_lower_bound",
    "surface_lower_bound",
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
