"""Candidate-side adapter for prism (runs in the candidate's process, before the program).

The evaluator sends the models as plain rows; this builds the `Model` objects the program's
`compute_model_placement(gpu_num, models)` is written against and maps the placement it returns
back to model indices ({gpu: [index]}; an object that is not one of the given models becomes -1).
The evaluator checks capacity and completeness and computes KV-cache pressure on its own
originals, so whatever the program does to these objects changes nothing. Nothing here is trusted.
"""

import syslab.adrs.adapter_support as support

support.prepare()


def compute_model_placement(program, gpu_num, rows):
    from syslab.adrs.prism_sim import Model
    from syslab.evaluators import InvalidOutput

    module = support.entry_module(program, "compute_model_placement")
    models = [Model(*row) for row in rows]
    support.seed_everything(0)
    result = module.compute_model_placement(gpu_num=gpu_num, models=models)
    if not isinstance(result, dict):
        raise InvalidOutput(f"compute_model_placement returned {type(result).__name__}, expected dict")
    index = {id(m): i for i, m in enumerate(models)}
    placement = {}
    for gpu, assigned in result.items():
        if not isinstance(assigned, list):
            raise InvalidOutput(f"GPU {gpu!r} maps to {type(assigned).__name__}, expected a list")
        placement[gpu] = [index.get(id(m), -1) for m in assigned]
    return placement
