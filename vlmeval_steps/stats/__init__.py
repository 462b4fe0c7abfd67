"""Statistics over per-row outcomes: confidence intervals and paired comparisons.

This room knows nothing of benchmarks. It reads an outcome table (one line per scored item, a
`unit` column naming the unit of resampling) and a `RatioSpec` saying how the metric is made of
column sums; the scoring families (vlmeval_steps/scoring/) write both.
"""
