"""atheris fuzz target: encoding (see _targets.py).

Run: python fuzz/fuzz_encoding.py -max_total_time=60 fuzz/corpus/encoding
Without atheris (or with --corpus-only) it replays the corpus as a plain script.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:  # instrument hookseal so coverage guides the fuzzer
    import atheris

    with atheris.instrument_imports(include=["hookseal"]):
        from _targets import main
except ImportError:
    from _targets import main

if __name__ == "__main__":
    main("encoding")
