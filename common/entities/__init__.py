"""Frozen entity models shared by controller and invoker."""

from pywhisk.common.entities.action import Action, ActionPut, Exec, ExecPut
from pywhisk.common.entities.activation import Activation, ActivationResponse, Status
from pywhisk.common.entities.identity import Identity, NamespaceLimits
from pywhisk.common.entities.limits import ActionLimits, LimitRanges, LimitsPut
from pywhisk.common.entities.package import Binding, Package, PackagePut
from pywhisk.common.entities.params import KeyValue, Params
from pywhisk.common.entities.rule import Rule, RulePut
from pywhisk.common.entities.trigger import EntityRef, RuleLink, Trigger, TriggerPut

__all__ = [
    "Action",
    "ActionLimits",
    "ActionPut",
    "Activation",
    "ActivationResponse",
    "Binding",
    "EntityRef",
    "Exec",
    "ExecPut",
    "Identity",
    "KeyValue",
    "LimitRanges",
    "LimitsPut",
    "NamespaceLimits",
    "Package",
    "PackagePut",
    "Params",
    "Rule",
    "RuleLink",
    "RulePut",
    "Status",
    "Trigger",
    "TriggerPut",
]
