"""Video: sampling settings and names, decoding (PyAV, read as decord reads), frame extraction, hub sources.

The benchmarks themselves (their index formulas, prompts, scoring) are in datasets/video/.
"""
