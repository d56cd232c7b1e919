"""The transformers backend: a `WhisperForConditionalGeneration` folder with its processor.

Decoding is transformers' own Whisper algorithm (30 s windows moved by the predicted
timestamps, so long audio is transcribed whole); greedy at temperature 0, sampling otherwise.
Segment times are clamped to the audio: a model that predicts a timestamp past the end of the
audio cannot produce a subtitle past it. `no_speech_prob` is not measured here (reported as 0).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from modelserve.builtin.speech_types import (
    SAMPLE_RATE,
    Capabilities,
    Segment,
    SpeechOptions,
    Transcript,
    compression_ratio,
)


class HFTranscriber:
    def __init__(self, folder: Path, device: str = "auto", dtype: str = "auto") -> None:
        from transformers import AutoProcessor, WhisperForConditionalGeneration

        from modelserve.builtin.loader import pick_device, pick_dtype

        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, folder, self.device, False)
        self.processor = AutoProcessor.from_pretrained(folder)
        model = WhisperForConditionalGeneration.from_pretrained(folder, dtype=self.dtype)
        self.model = model.to(self.device).eval()
        self.tokenizer = self.processor.tokenizer
        gc = self.model.generation_config
        lang_to_id: dict[str, int] = dict(getattr(gc, "lang_to_id", None) or {})
        self.id_to_lang = {i: tok.strip("<|>") for tok, i in lang_to_id.items()}
        multilingual = bool(getattr(gc, "is_multilingual", False)) and bool(lang_to_id)
        languages = tuple(sorted(self.id_to_lang.values())) if multilingual else ("en",)
        self.capabilities = Capabilities("transformers", multilingual, languages, word_timestamps=False)
        # Text tokens lie below <|endoftext|>; specials and timestamps above it.
        self.eot = int(self.tokenizer.convert_tokens_to_ids("<|endoftext|>"))

    def transcribe(self, audio: Any, opts: SpeechOptions) -> Transcript:
        import torch

        duration = len(audio) / SAMPLE_RATE
        fe = self.processor.feature_extractor
        long_form = len(audio) > fe.n_samples
        feats = fe(
            audio,
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            return_attention_mask=True,
            **({"truncation": False, "padding": "longest"} if long_form else {}),
        )
        kwargs: dict[str, Any] = {
            "attention_mask": feats.attention_mask.to(self.device),
            "return_timestamps": True,
            "return_segments": True,
            "return_dict_in_generate": True,
            "output_scores": True,
        }
        if self.capabilities.multilingual:
            kwargs.update(task=opts.task, language=opts.language)
        if opts.prompt:
            ids = self.processor.get_prompt_ids(opts.prompt, return_tensors="pt")
            kwargs["prompt_ids"] = ids.to(self.device)
        if opts.temperature:
            kwargs.update(do_sample=True, temperature=float(opts.temperature))
        with torch.inference_mode():
            out = self.model.generate(
                input_features=feats.input_features.to(self.device, self.dtype), **kwargs
            )
        raw = out["segments"][0] if isinstance(out, dict) and out.get("segments") else []
        segments = self._segments(raw, duration, float(opts.temperature or 0.0))
        return Transcript(
            text="".join(s.text for s in segments).strip(),
            language=self._language(raw, opts),
            duration=round(duration, 3),
            segments=segments,
            words=None,
        )

    def _segments(self, raw: list[dict[str, Any]], duration: float, temperature: float) -> list[Segment]:
        out: list[Segment] = []
        prev_end = 0.0
        for seg in raw:
            start = min(max(float(seg["start"]), prev_end), duration)
            if start >= duration and out:
                break  # a timestamp past the audio: nothing more was said
            end = min(max(float(seg["end"]), start), duration)
            tokens = [int(t) for t in seg["tokens"].tolist() if int(t) < self.eot]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            out.append(
                Segment(
                    id=len(out),
                    seek=int(start * 100),
                    start=round(start, 3),
                    end=round(end, 3),
                    text=text,
                    tokens=tokens,
                    temperature=temperature,
                    avg_logprob=_avg_logprob(seg),
                    compression_ratio=round(compression_ratio(text), 4),
                    no_speech_prob=0.0,
                )
            )
            prev_end = end
        return out

    def _language(self, raw: list[dict[str, Any]], opts: SpeechOptions) -> str:
        if not self.capabilities.multilingual:
            return "en"
        if opts.language:
            return opts.language
        for seg in raw:  # the detected language token sits in the window's decoder prompt
            seq = seg.get("result", {}).get("sequences")
            for t in seq.tolist() if seq is not None else ():
                if int(t) in self.id_to_lang:
                    return self.id_to_lang[int(t)]
        return "en"


def _avg_logprob(seg: dict[str, Any]) -> float:
    """Mean log-probability of the segment's tokens under the decoding distribution."""
    import torch

    result = seg.get("result") or {}
    seq, scores = result.get("sequences"), result.get("scores")
    if seq is None or not scores or "idxs" not in seg:
        return 0.0
    offset = len(seq) - len(scores)  # positions of the decoder prompt, which have no score
    values = []
    for pos in range(*seg["idxs"]):
        step = pos - offset
        if 0 <= step < len(scores):
            lp = torch.log_softmax(scores[step].float(), dim=-1)[int(seq[pos])].item()
            if math.isfinite(lp):
                values.append(lp)
    return round(sum(values) / len(values), 4) if values else 0.0
