"""Which keys of a model entry change nothing in its answers: how it runs, not what it says.

The config leaves them out of the settings that key the answer cache and the infer rule's params; the
model builder leaves them out of the adapter's arguments. Here, below both, so neither imports the other
(and an API model's infer job starts without importing the dataset registry and pandas).
"""
OPERATIONAL_KEYS = frozenset({
    "shards", "nproc", "batch_size", "device", "key_env", "key_file", "timeout", "retry", "wait", "verbose",
    "keep_failed", "build", "gpus",
    "architecture",  # what the checkpoint is expected to be: checked before a run; the checkpoint decides answers
})
SECRET_KEYS = frozenset({"key", "api_key"})


def generation_settings(spec: dict) -> dict:
    """What decides a model's answers: its entry without the operational keys and secrets (the answer cache's
    key and the infer rule's params)."""
    return {k: v for k, v in spec.items() if k not in OPERATIONAL_KEYS and k not in SECRET_KEYS}
