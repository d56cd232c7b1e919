"""What the engine serves and whether it is ready: loading happens on a background thread while the
server already answers (`/health` 503 until ready). A load failure is printed as one line to stderr
and asks the server to exit with a non-zero status.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from modelserve.builtin.config import EngineConfig
from modelserve.errors import NotFound, NotReady

log = logging.getLogger("modelserve.builtin")


class EngineState:
    def __init__(self, cfg: EngineConfig) -> None:
        self.cfg = cfg
        self.status = "loading"  # loading | ready | failed
        self.error: str | None = None
        self.task: str | None = None
        self.generator: Any = None  # GenerationScheduler
        self.embedder: Any = None  # EmbeddingBatcher
        self.pooler: Any = None  # PoolingBatcher of any pooling task (the embedder, for embed)
        self.speech: Any = None  # SpeechWorker
        self.tokenizer: Any = None
        self.max_model_len: int | None = None
        self.adapters: tuple[str, ...] = ()
        self.created = int(time.time())
        self.on_failure: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ loading
    def start_loading(self) -> threading.Thread:
        t = threading.Thread(target=self._load, name="modelserve-load", daemon=True)
        t.start()
        return t

    def _load(self) -> None:
        try:
            self._load_model()
        except Exception as e:
            from modelserve.builtin.loader import LoadError

            detail = str(e) if isinstance(e, LoadError) else f"{type(e).__name__}: {e}"
            self.error = " ".join(detail.split())
            self.status = "failed"
            print(
                f"modelserve.builtin: failed to load {self.cfg.model!r}: {self.error}",
                file=sys.stderr,
                flush=True,
            )
            log.debug("load failure", exc_info=True)
            self.on_failure()

    def _load_model(self) -> None:
        from modelserve.builtin import loader

        t0 = time.monotonic()
        src = loader.resolve_source(self.cfg)
        task = loader.detect_task(src, self.cfg.task)
        if task == "generate":
            from modelserve.builtin.scheduler import GenerationScheduler

            gen = loader.load_generator(self.cfg, src)
            self.generator = GenerationScheduler(
                gen,
                self.cfg.max_num_seqs,
                self.cfg.max_queue,
                self.cfg.prefill_chunk_tokens,
                self.cfg.prefix_cache_mb,
            )
            self.generator.start()
            self.tokenizer, self.max_model_len, self.adapters = gen.tokenizer, gen.max_model_len, gen.adapters
        elif task == "transcribe":
            from modelserve.builtin.speech_models import load_transcriber
            from modelserve.builtin.speech_worker import SpeechWorker

            transcriber = load_transcriber(src.folder, self.cfg.device, self.cfg.dtype)
            self.speech = SpeechWorker(transcriber, self.cfg.max_queue)
            self.speech.start()
        else:
            from modelserve.builtin.pooling import start_pooler

            self.pooler = start_pooler(self.cfg, src, task)
            if task == "embed":
                self.embedder = self.pooler  # /v1/embeddings
            runner = self.pooler.runner
            self.tokenizer, self.max_model_len = runner.tokenizer, runner.max_model_len
        self.task = task
        self.status = "ready"
        log.info("model %s ready for %s in %.1fs", self.cfg.served_model_name, task, time.monotonic() - t0)

    def close(self) -> None:
        if self.pooler is not None and self.pooler is not self.embedder:
            self.pooler.close()
        for worker in (self.generator, self.embedder, self.speech):
            if worker is not None:
                worker.close()

    # ------------------------------------------------------------------ request helpers
    def require_ready(self) -> None:
        if self.status != "ready":
            msg = (
                "the model is still loading"
                if self.status == "loading"
                else f"the model failed to load: {self.error}"
            )
            raise NotReady(msg, retry_after=1 if self.status == "loading" else None)

    def resolve_model(self, name: str | None) -> str | None:
        """The adapter a request names (None for the base model); NotFound for an unknown name."""
        if name is None or name == self.cfg.served_model_name:
            return None
        if name in self.adapters:
            return name
        raise NotFound(f"The model `{name}` does not exist.", param="model", code="model_not_found")
