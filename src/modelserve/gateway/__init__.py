"""The OpenAI data plane: routes OpenAI requests by exposed model name to engine replicas.

Never imports modelserve.control, modelserve.executors or modelserve.api; state enters only
through the `source` callable handed to `Gateway`.
"""

from __future__ import annotations

from modelserve.gateway.service import Gateway
from modelserve.gateway.table import Endpoint, Route, RoutingTable, ServedModel

__all__ = ["Endpoint", "Gateway", "Route", "RoutingTable", "ServedModel"]
