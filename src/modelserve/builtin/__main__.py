"""Entry point: `python -m modelserve.builtin --model PATH --served-model-name NAME ...`.

Parses arguments, starts uvicorn at once (the model loads in the background) and exits non-zero
when the model fails to load.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from modelserve.builtin.config import parse_args
    from modelserve.builtin.openmp import short_spins

    cfg = parse_args(argv)
    short_spins()  # before anything imports torch
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=cfg.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import uvicorn

    from modelserve.builtin.app import create_app
    from modelserve.builtin.state import EngineState

    state = EngineState(cfg)
    app = create_app(cfg, state)
    server = uvicorn.Server(
        uvicorn.Config(app, host=cfg.host, port=cfg.port, log_level=cfg.log_level.lower(), access_log=False)
    )

    def _stop() -> None:
        server.should_exit = True

    state.on_failure = _stop
    server.run()
    return 1 if state.status == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
