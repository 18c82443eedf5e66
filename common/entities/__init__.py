"""Frozen entity models shared by controller and invoker."""

from common.entities.action import Action, ActionPut, Exec, ExecPut
from common.entities.activation import Activation, ActivationResponse, Status
from common.entities.identity import Identity, NamespaceLimits
from common.entities.limits import ActionLimits, LimitRanges, LimitsPut
from common.entities.package import Binding, Package, PackagePut
from common.entities.params import KeyValue, Params
from common.entities.rule import Rule, RulePut
from common.entities.trigger import EntityRef, RuleLink, Trigger, TriggerPut

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
