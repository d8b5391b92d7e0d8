"""Plan parser on the hand-counted corpus (tests/data/plans/corpus/): recall and precision.

``python -m benchmarks plans_corpus`` prints, per document (with its province, year and genre
from the source file; ``*`` hold-out, ``†`` unseen), tasks / lead departments / targets
(expected/found, recall, precision), indicator codes right on the matched targets, junk
department names, and the time to parse the whole corpus.  Figures go in issue notes.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "plans" / "corpus"


def main() -> None:
    spec = importlib.util.spec_from_file_location("plans_corpus_measure", CORPUS / "measure.py")
    assert spec and spec.loader
    measure = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = measure
    spec.loader.exec_module(measure)
    started = time.perf_counter()
    rows = measure.measure_all()
    elapsed = time.perf_counter() - started
    print(measure.table(rows))
    print(f"\n{len(rows)} documents parsed and measured in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
