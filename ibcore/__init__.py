"""ibcore: Information-Bottleneck layers, KL terms, experiments and figures.

The package behind the book on *Information Dropout* (Achille & Soatto, 2016)
and *Gaussian dropout as an information bottleneck layer* (Rey & Mnih).
Submodules are imported on demand so ``import ibcore`` stays cheap.
"""
__version__ = "0.1.0"
