"""``python -m netlab.scenarios.samples``: write the sample pastes again."""

from netlab.scenarios.samples import write_samples

for path in write_samples():
    print(path)
