#!/usr/bin/env python3
"""Writes the CMUdict train/dev/test split as TSV files (see stepwise_py/g2p_data.py for the definition).

    /usr/bin/python3 tools/g2p_data.py [--out data/cmudict]
"""
import argparse

from stepwise_py.g2p_data import write_splits

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default="data/cmudict", help="output folder (default: data/cmudict)")
args = parser.parse_args()
counts = write_splits(args.out)
print(" ".join(f"{split}={n}" for split, n in counts.items()), "headwords written to", args.out)
