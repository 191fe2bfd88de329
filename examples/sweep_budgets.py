"""Parameter and MAC budgets of a whole architecture family, without building a model:
the sweep a researcher runs before training anything.

    python examples/sweep_budgets.py
"""

from pathlib import Path

import archspec

SPECS = Path(__file__).resolve().parent.parent / "specs"

family = archspec.load(SPECS / "resnet.yaml")
print(f"{'depth':>5} {'params':>12} {'GMACs':>7} {'peak act. MiB':>14}")
for depth in (18, 34, 50, 101, 152):
    totals = archspec.check(family, params={"depth": depth}).totals
    print(f"{depth:5} {totals['trainable_params']:12,} {totals['macs'] / 1e9:7.2f} "
          f"{totals['peak_activation_bytes'] / 2**20:14.1f}")

mobile = archspec.load(SPECS / "mobilenet_v2.yaml")
for width in (0.35, 0.5, 0.75, 1.0, 1.4):
    totals = archspec.check(mobile, params={"width": width}).totals
    print(f"mobilenet_v2 width {width:4}: {totals['trainable_params']:10,} params, "
          f"{totals['macs'] / 1e6:7.1f} M MACs")
