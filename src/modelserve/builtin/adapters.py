"""The LoRA adapters of a running generator, loaded and unloaded while it serves (vLLM's runtime LoRA).

Every change to the model's modules (the peft wrap on the first adapter, a load, a delete, the
unwrap after the last) runs on the scheduler thread between two steps, never while a batch uses
the model. Each loaded adapter has its own peft key: a name loaded again after an unload gets a
fresh key, so sequences still decoding with the old weights, and prefix-cache entries made with
them, never mix with the new ones.

Unloading follows vLLM: the name stops taking requests at once (404 for new requests), while the
sequences already admitted with it finish with it; its weights are deleted when the last of them
is done ("retiring"). `served` is written under the scheduler's lock (its readers hold it too);
everything else belongs to the scheduler thread.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelserve.builtin.loader import LoadedGenerator
from modelserve.errors import InvalidRequest, NotFound

log = logging.getLogger("modelserve.builtin")

BASE_KEY = "__base__"  # peft's name for "no adapter" in a mixed batch


class AdapterNotFound(NotFound):
    """No adapter folder at the path (vLLM answers 404 for it too)."""


@dataclass(frozen=True)
class Adapter:
    name: str  # the model name clients send
    key: str  # the peft adapter name
    path: str


def adapter_missing(name: str, path: str) -> AdapterNotFound | None:
    """vLLM's error when `path` holds no adapter (no adapter_config.json); None when it does."""
    if (Path(path) / "adapter_config.json").is_file():
        return None
    return AdapterNotFound(
        f"Loading lora {name} failed: No adapter found for {path}", param="lora_path", code="lora_not_found"
    )


def _is_peft(model: Any) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "load_adapter")


class AdapterSet:
    def __init__(self, m: LoadedGenerator, paths: Mapping[str, str], lock: threading.Condition) -> None:
        self.m = m
        self._lock = lock
        self.served: dict[str, Adapter] = {name: Adapter(name, name, paths.get(name, "")) for name in m.adapters}
        self.retiring: set[str] = set()  # keys unloaded by name, still used by admitted sequences

    # ------------------------------------------------------------------ any thread, under the lock
    def key_for(self, name: str | None) -> str | None:
        """The peft key of adapter `name` (None: the base model); NotFound when it is not served."""
        if name is None:
            return None
        adapter = self.served.get(name)
        if adapter is None:
            raise NotFound(f"The model `{name}` does not exist.", param="model", code="model_not_found")
        return adapter.key

    # ------------------------------------------------------------------ scheduler thread
    def attach(self, name: str, path: str) -> Adapter:
        """Load the adapter in folder `path` as `name`; the model is wrapped by peft on the first one.

        Raises InvalidRequest for a name already served, AdapterNotFound for a folder without an
        adapter, InvalidRequest naming `lora_path` when peft cannot apply it to this model.
        """
        if name in self.served:
            raise InvalidRequest(
                f"The lora adapter '{name}' has already been loaded.", param="lora_name", code="lora_exists"
            )
        missing = adapter_missing(name, path)
        if missing is not None:
            raise missing
        key = self._free_key(name)
        try:
            if _is_peft(self.m.model):
                self.m.model.load_adapter(path, adapter_name=key)
            else:
                from peft import PeftModel

                self.m.model = PeftModel.from_pretrained(self.m.model, path, adapter_name=key)
        except Exception as exc:  # peft's own message says what does not fit (modules, shapes)
            self._remove_key(key)
            detail = " ".join(str(exc).split())[:500]
            raise InvalidRequest(
                f"Loading lora {name} failed: {type(exc).__name__}: {detail}", param="lora_path"
            ) from None
        self.m.model.eval()
        self._refresh_keys()
        adapter = Adapter(name, key, path)
        with self._lock:
            self.served[name] = adapter
        log.info("loaded LoRA adapter %r from %s", name, path)
        return adapter

    def detach(self, name: str) -> Adapter:
        """Stop serving `name` to new requests; its weights go once its sequences are done (`collect`).

        Raises NotFound (vLLM's message) when `name` is not served.
        """
        with self._lock:
            adapter = self.served.pop(name, None)
        if adapter is None:
            raise NotFound(
                f"The lora adapter '{name}' cannot be found.", param="lora_name", code="lora_not_found"
            )
        self.retiring.add(adapter.key)
        log.info("unloading LoRA adapter %r", name)
        return adapter

    def collect(self, in_use: Iterable[str | None]) -> list[str]:
        """Delete the retiring adapters no sequence uses any more; returns their keys."""
        gone = sorted(self.retiring - set(in_use))
        for key in gone:
            self.retiring.discard(key)
            self._remove_key(key)
        if gone:
            self._refresh_keys()
        return gone

    def _free_key(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "adapter"
        taken = set(getattr(self.m.model, "peft_config", {}) or {}) | self.retiring | {BASE_KEY}
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        return key

    def _remove_key(self, key: str) -> None:
        """Delete peft adapter `key` (if present); unwrap the model when it was the last one."""
        model = self.m.model
        if not _is_peft(model) or key not in model.peft_config:
            return
        if set(model.peft_config) == {key}:
            self.m.model = model.unload()  # peft cannot run with zero adapters: back to the plain model
            self.m.model.eval()
        else:
            model.delete_adapter(key)

    def _refresh_keys(self) -> None:
        model = self.m.model
        self.m.adapters = tuple(model.peft_config) if _is_peft(model) else ()
