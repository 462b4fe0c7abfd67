"""Names users type in their files, checked before anything runs, with the close known names.

- A model entry's settings against what its adapter accepts (its constructor's arguments, walking
  the classes that a `**kwargs` forwards to) and the workflow's own keys (`class`, `prompt`, the
  operational keys). An adapter whose `**kwargs` passes anything on (OpenAIAPI sends unknown keys
  in the request body, as upstream) still refuses a name that is a near miss of one it knows.
- A config's keys against the schema (workflow/schemas/config.schema.yaml), naming the file.
"""
from __future__ import annotations

import difflib
import inspect

from .errors import InputError

HINT = 0.6   # difflib ratio from which a known name is offered for an unknown one
TYPO = 0.8   # ... and from which an unknown name is taken for a typo even where any name is accepted
LIST_AT_MOST = 20  # a longer list of known names is left to `vlmeval-steps list`


def close(name: str, known, cutoff: float = HINT) -> list[str]:
    """Known names like `name`: the one it equals but for case (MMstar: MMStar) if there is one, else up to
    three of difflib's closest, compared without case."""
    by_lower: dict[str, list[str]] = {}
    for k in sorted(known):
        by_lower.setdefault(k.lower(), []).append(k)
    same = [k for k in by_lower.get(name.lower(), []) if k != name]
    if same:
        return same
    near = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=cutoff)
    return [k for low in near for k in by_lower[low] if k != name][:3]


def _did_you_mean(name: str, known, cutoff: float = HINT) -> str:
    matches = close(name, known, cutoff)
    return f"; did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


def adapter_settings(cls) -> tuple[set[str], bool]:
    """(the setting names `cls` takes, whether it passes other names on). An adapter may narrow its
    `**kwargs` to a list of names with a class attribute EXTRA_SETTINGS."""
    names: set[str] = set()
    open_ = False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]
        names |= {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            open_ = False
            break
        open_ = True  # **kwargs: the next class in the MRO may take them
    extra = getattr(cls, "EXTRA_SETTINGS", None)
    if extra is not None:
        names |= set(extra)
        open_ = False
    return names, open_


def check_model_settings(name: str, spec: dict, where: str, workflow_keys) -> None:
    """InputError for a setting the model's adapter does not take (or a near miss of one it takes)."""
    from .models import adapter_class

    cls = adapter_class(spec["class"])
    names, open_ = adapter_settings(cls)
    known = names | set(workflow_keys)
    for key in spec:
        if key in known:
            continue
        if open_ and not close(key, known, TYPO):
            continue  # passed on as given (e.g. top_p in an API request body)
        hint = _did_you_mean(key, known, TYPO if open_ else HINT)
        accepted = ", ".join(sorted(names))
        raise InputError(f"model {name!r} ({where}): {cls.__name__} has no setting {key!r}{hint or '.'} "
                         f"It takes: {accepted}{' (and passes other names on)' if open_ else ''}; and the "
                         f"workflow's keys: {', '.join(sorted(set(workflow_keys) - names))}.")


def check_config_keys(doc: dict, schema: dict, source: str) -> None:
    """InputError naming `source` for a key the config schema does not have (at the top level, and in
    entries whose schema lists its keys, e.g. custom_datasets)."""
    _check_object(doc, schema, source, "")


def _check_object(doc, schema: dict, source: str, path: str) -> None:
    if not isinstance(doc, dict) or not isinstance(schema, dict):
        return
    props = schema.get("properties") or {}
    if schema.get("additionalProperties") is False:
        for key in doc:
            if key not in props:
                where = f"{path}.{key}" if path else key
                raise InputError(f"{source}: unknown config key {where!r}{_did_you_mean(key, props) or '.'} "
                                 f"Known keys{' of ' + path if path else ''}: {', '.join(sorted(props))}.")
    for key, value in doc.items():
        if key in props:
            _check_object(value, props[key], source, f"{path}.{key}" if path else key)
        elif isinstance(schema.get("additionalProperties"), dict):
            _check_object(value, schema["additionalProperties"], source, f"{path}.{key}" if path else key)


def explain_target(target: str, model_names, dataset_names) -> str:
    """Why `results/{model}/{dataset}_acc.csv` (or `.xlsx`) names nothing the workflow can make: the part
    that is unknown, and the close known names."""
    import re

    from .names import split_limit

    m = re.match(r"^results/(?P<model>[^/]+)/(?P<dataset>[^/]+?)(?P<suffix>_acc\.csv|\.xlsx)$", target)
    if not m:
        return (f"{target}: not a target of this workflow; results are results/{{model}}/{{dataset}}_acc.csv "
                "(or .xlsx for the predictions alone).")
    model, dataset = m["model"], m["dataset"]
    problems = []
    if model not in model_names:
        listed = (f"Known models: {', '.join(sorted(model_names))}" if len(model_names) <= LIST_AT_MOST else
                  f"{len(model_names)} models are known: `vlmeval-steps list models` shows them")
        problems.append(f"unknown model {model!r}{_did_you_mean(model, model_names) or '.'} "
                        f"{listed} (config/models.yaml, config/model_families.yaml, custom_models).")
    base, limited = split_limit(dataset)
    if limited is None:  # a malformed limit (_limit0, _limit): the base it was meant for
        base = re.sub(r"_limit\d*$", "", dataset)
    if base not in dataset_names:
        problems.append(f"unknown dataset {base!r}{_did_you_mean(base, dataset_names) or '.'} Known datasets: "
                        "`vlmeval-steps list datasets`, or add it under custom_datasets in the config.")
    elif base != dataset and not limited:
        problems.append(f"{dataset!r}: a limit is written {base}_limitN with N >= 1 (e.g. {base}_limit20).")
    return f"{target}: " + " ".join(problems) if problems else f"{target}: cannot be made (see the rules above)."
