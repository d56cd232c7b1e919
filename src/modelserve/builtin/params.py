"""Internal values of the generation path: sampling parameters, per-step outputs, token logprobs.

Frozen dataclasses shared by the scheduler (worker thread) and the routes (event loop).
Imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float = 1.0  # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 or -1: off
    seed: int | None = None
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    min_tokens: int = 0
    ignore_eos: bool = False
    logprobs: int | None = None  # None: no logprobs; k: the chosen token plus the top k

    @property
    def greedy(self) -> bool:
        return self.temperature <= 1e-5

    @property
    def penalized(self) -> bool:
        return bool(self.presence_penalty or self.frequency_penalty or self.repetition_penalty != 1.0)


@dataclass(frozen=True)
class TokenLogprob:
    token_id: int
    token: str
    logprob: float
    top: tuple[tuple[int, str, float], ...] = ()


@dataclass(frozen=True)
class StepOutput:
    """What one sequence produced in one scheduler step (sent to the event loop).

    `text` is the new text (stop strings already cut), `finish_reason` is set on the last output,
    `error` is set when the engine failed this sequence.
    """

    index: int
    text: str
    token_ids: tuple[int, ...]
    logprobs: tuple[TokenLogprob, ...] | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    error: str | None = None
