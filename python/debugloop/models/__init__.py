"""Pydantic models of what the SQL API returns, one module per domain.

Each row model names the relation whose columns it mirrors in ``__relation__``;
a test checks the fields' names and types against that relation in a real database.
"""

from .agents import AgentSession
from .analytics import (
    CostBreakdown,
    CostlyAttempt,
    Metric,
    PeriodCost,
    QualitySummary,
    RefreshResult,
    StfQuality,
    StfUsage,
    SuccessCost,
)
from .attempts import Attempt, ChainEntry, SimilarProblem
from .base import Document, Row
from .budgets import (
    Budget,
    BudgetAlert,
    BudgetStatus,
    BudgetUsage,
    RateLimitRule,
    RateStatus,
    SpendReportRow,
    Team,
)
from .errors import (
    ErrorDescription,
    ErrorFix,
    ErrorMapping,
    ErrorSignature,
    KnownFailure,
    LikelyFix,
)
from .golden import GoldenMatch, GoldenReview, GoldenState, GoldenSummary
from .imports import ImportCostDifference, ImportFix, ImportReportRow, ImportSession
from .ledger import Balance, BalanceAt, HistoryEntry, Hold, Invariant, Transfer
from .manifest import (
    Manifest,
    ManifestAgent,
    ManifestCost,
    ManifestEstimate,
    ManifestFailure,
    ManifestFix,
    ManifestGolden,
    ManifestModel,
    ManifestSolved,
    ManifestSource,
    ManifestSpend,
    ManifestStf,
)
from .meta import ApiEntry, Component, Setting
from .peers import AdoptedAgent, AgentName, AgentNameSeen, CurrentPeer, Peer, PeerRole, PeerSummary
from .pricing import CostEstimate, PriceImportRow, PriceVersion, RepriceRow
from .rewards import BackfillRow, Reward, RewardQuote
from .spending import Reservation, SpendAccount, SpendBalance, SpendEstimate
from .stf import Stf, StfExtraction, StfMatch, StfProvenance, StfSummary

__all__ = [
    "Budget",
    "BudgetAlert",
    "BudgetStatus",
    "BudgetUsage",
    "RateLimitRule",
    "RateStatus",
    "SpendReportRow",
    "Team",
    "ManifestSpend",
    "Reservation",
    "SpendAccount",
    "SpendBalance",
    "SpendEstimate",
    "BackfillRow",
    "Reward",
    "RewardQuote",
    "AgentSession",
    "AdoptedAgent",
    "AgentName",
    "AgentNameSeen",
    "ApiEntry",
    "Attempt",
    "Balance",
    "BalanceAt",
    "ChainEntry",
    "Component",
    "CostBreakdown",
    "PeriodCost",
    "CostEstimate",
    "CostlyAttempt",
    "CurrentPeer",
    "Document",
    "ErrorDescription",
    "ErrorFix",
    "ErrorMapping",
    "ErrorSignature",
    "GoldenMatch",
    "GoldenReview",
    "GoldenState",
    "GoldenSummary",
    "HistoryEntry",
    "Hold",
    "ImportCostDifference",
    "ImportFix",
    "ImportReportRow",
    "ImportSession",
    "Invariant",
    "KnownFailure",
    "LikelyFix",
    "Manifest",
    "ManifestAgent",
    "ManifestCost",
    "ManifestEstimate",
    "ManifestFailure",
    "ManifestFix",
    "ManifestGolden",
    "ManifestModel",
    "ManifestSolved",
    "ManifestSource",
    "ManifestStf",
    "Metric",
    "Peer",
    "PeerRole",
    "PeerSummary",
    "PriceImportRow",
    "PriceVersion",
    "QualitySummary",
    "RefreshResult",
    "RepriceRow",
    "Row",
    "Setting",
    "SimilarProblem",
    "Stf",
    "StfExtraction",
    "StfMatch",
    "StfProvenance",
    "StfQuality",
    "StfSummary",
    "StfUsage",
    "SuccessCost",
    "Transfer",
]
