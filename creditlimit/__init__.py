"""Credit-limit scoring pipeline: features, PD model, credit policy and batch scorer."""
