"""localstripe whose state is kept in a file of the demo's own, so a restarted demo finds its emulator as it left it.

    python -m readerfund.demo.localstripe_kept --port 8420 --state var/localstripe.pickle

localstripe itself keeps its state in one fixed file for the whole machine (/tmp/localstripe.pickle),
which two demos, or a demo and the tests, would share and overwrite. Here its store reads and writes
`--state` instead; everything else is localstripe as it is. Demo only: the file is the newcomer's.
"""

from __future__ import annotations

import argparse
import pickle  # noqa: S403 - our own file, written by this process
import sys
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args()

    from localstripe import resources, server

    state: Path = args.state

    def load(store: Any) -> None:
        if state.exists():
            with state.open("rb") as f:
                kept = pickle.load(f)  # noqa: S301 - our own file
            store.clear()
            store.update(kept)

    def dump(store: Any) -> None:
        partial = state.with_suffix(".part")
        with partial.open("wb") as f:
            pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(state)  # a demo stopped mid-write keeps the last whole state

    resources.Store.try_load_from_disk = load  # type: ignore[method-assign]
    resources.Store.dump_to_disk = dump  # type: ignore[method-assign]
    # Without --from-scratch, localstripe loads the (now our) saved state before it listens.
    sys.argv = [sys.argv[0], "--port", str(args.port)]
    server.start()


if __name__ == "__main__":
    main()
