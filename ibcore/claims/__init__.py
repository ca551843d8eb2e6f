"""How the papers' claims are read: every claim of both papers split into its parts
(:mod:`.papers`), the measures that read a committed result (:mod:`.measures`,
:mod:`.measures_generative`, :mod:`.tradeoff`; exact results: :mod:`.exact`), the one verdict
vocabulary and its rules (:mod:`.verdicts`), and the claims tables and the scorecard
(:mod:`.tables`).

Each experiment declares its trained regime beside itself
(:func:`ibcore.experiments.registry.declare_baseline`); :func:`.papers.judge` reads it before any
comparison, so a reader looking for why a figure got its verdict opens this one folder.
"""
from ibcore.claims.verdicts import MEANINGS, VERDICTS
from ibcore.claims.papers import CLAIMS as PAPER_CLAIMS, Claim, cifar_claims, paper_comparison, trained_regimes
from ibcore.claims.tables import ClaimsTable, claims_table, scorecard
from ibcore.claims.tradeoff import pareto_front, tradeoff_by_seed, tradeoff_comparison, tradeoff_prose

__all__ = ["MEANINGS", "VERDICTS", "PAPER_CLAIMS", "Claim", "cifar_claims", "paper_comparison", "trained_regimes",
           "ClaimsTable", "claims_table", "scorecard", "pareto_front", "tradeoff_comparison",
           "tradeoff_by_seed", "tradeoff_prose"]
