"""Which keys of a model entry change nothing in its answers: how it runs, not what it says.

The config leaves them out of the settings that key the answer cache and the infer rule's params; the
model builder leaves them out of the adapter's arguments. Here, below both, so neither imports the other.
"""
OPERATIONAL_KEYS = frozenset({
    "shards", "nproc", "batch_size", "device", "key_env", "key_file", "timeout", "retry", "wait", "verbose",
    "keep_failed", "build", "gpus",
    "architecture",  # what the checkpoint is expected to be: checked before a run; the checkpoint decides answers
})
