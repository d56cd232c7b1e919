"""A tiny random-weight Whisper in transformers format, built offline in well under a second.

English-only, with the special-token layout of `openai/whisper-*.en`: `<|endoftext|>`, then
`<|startoftranscript|>`, `<|en|>`, `<|translate|>`, `<|transcribe|>`, `<|startoflm|>`,
`<|startofprev|>`, `<|nospeech|>`, `<|notimestamps|>`, then 1501 timestamp tokens that are *not*
special (as in real Whisper, so timestamp decoding finds them). The byte-level BPE is trained on
the shared test corpus, so no tokenizer is fetched. Output is byte-identical from run to run.
Its transcripts are gibberish: it checks the serving path, not recognition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelserve.testing.tokenizers_build import CORPUS

SEED = 0
# Tokens per 30 s window. A random model never ends a window by itself, so it would decode up to
# Whisper's 448 every time; a short cap keeps a transcription to a fraction of a second.
MAX_LENGTH = 12
WHISPER_SPECIALS = [
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|notimestamps|>",
]


def _byte_bpe(vocab_size: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    lines = [line for line in CORPUS.splitlines() if line.strip()] * 20
    raw.train_from_iterator(lines, trainer=trainer)
    return raw


def _whisper_tokenizer(vocab_size: int) -> Any:
    import json

    from tokenizers import AddedToken
    from transformers import WhisperTokenizer

    raw = _byte_bpe(vocab_size)
    merges = json.loads(raw.to_str())["model"]["merges"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]
    # As in real Whisper, every special token's id is above the text vocabulary's
    # (`get_prompt_ids` relies on it): `<|endoftext|>` first, then the task tokens.
    vocab = dict(sorted(raw.get_vocab().items(), key=lambda kv: kv[1]))
    vocab["<|endoftext|>"] = len(vocab)
    tok = WhisperTokenizer(vocab=vocab, merges=merges)
    tok.add_tokens(
        [AddedToken(t, special=True, normalized=False) for t in WHISPER_SPECIALS], special_tokens=True
    )
    tok.add_tokens(
        [AddedToken(f"<|{i * 0.02:.2f}|>", special=False, normalized=False) for i in range(1501)]
    )
    tok.set_prefix_tokens(predict_timestamps=False)
    return tok


def make_tiny_whisper(
    out_dir: Path | str, d_model: int = 64, layers: int = 1, heads: int = 2, vocab_size: int = 600
) -> Path:
    """Write `WhisperForConditionalGeneration` + `WhisperProcessor` (80 mel bins, 16 kHz) to out_dir."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    out = Path(out_dir)
    tok = _whisper_tokenizer(vocab_size)
    ids = {t: tok.convert_tokens_to_ids(t) for t in ["<|endoftext|>", *WHISPER_SPECIALS]}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    processor = WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tok)

    torch.manual_seed(SEED)
    cfg = WhisperConfig(
        vocab_size=len(tok),
        num_mel_bins=80,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=d_model * 2,
        decoder_ffn_dim=d_model * 2,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    model = WhisperForConditionalGeneration(cfg).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
        no_timestamps_token_id=ids["<|notimestamps|>"],
        prev_sot_token_id=ids["<|startofprev|>"],
        is_multilingual=False,
        max_initial_timestamp_index=50,
        max_length=MAX_LENGTH,
        suppress_tokens=[],
        begin_suppress_tokens=[tok.convert_tokens_to_ids("Ġ"), eot],
        forced_decoder_ids=None,
        return_timestamps=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
