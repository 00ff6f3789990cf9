"""Credit-limit scoring pipeline: features, PD model, credit policy and batch scorer."""

__version__ = "0.1.0"
