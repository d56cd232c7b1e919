"""Deterministic tokenizers for the tiny test models, trained offline on a built-in corpus.

Byte-level BPE (Llama-3 style) via `tokenizers.BpeTrainer` (deterministic), and a BERT WordPiece
vocab built by hand, because `WordPieceTrainer` breaks ties differently from run to run.
Imports `tokenizers`/`transformers` lazily.
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CORPUS = """\
The quick brown fox jumps over the lazy dog. Hello world! How are you today?
I am fine, thank you. What is the capital of France? The capital of France is Paris.
Machine learning models generate text one token at a time. A server streams tokens to clients.
Embeddings map sentences to vectors; similar sentences have similar vectors.
Rerankers score a query against documents. Classifiers assign labels such as positive or negative.
Speech recognition turns audio into text. Adapters change a model's behaviour with few parameters.
OpenAI compatible APIs expose /v1/completions, /v1/chat/completions, /v1/embeddings and /v1/models.
Kubernetes runs containers in pods; a deployment keeps replicas running behind a service.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 1000 3.14 2024 2025 2026.
Punctuation and symbols: , . ; : ! ? ' " ( ) [ ] { } < > / \\ | @ # $ % ^ & * - + = _ ~ `
def add(a, b):
    return a + b
{"role": "user", "content": "Say hello"} {"role": "assistant", "content": "Hello!"}
Bonjour le monde. Hola mundo. Hallo Welt. Ciao mondo. Olá mundo.
"""

LLAMA3_BOS = "<|begin_of_text|>"
LLAMA3_EOS = "<|eot_id|>"
LLAMA3_PAD = "<|finetune_right_pad_id|>"
LLAMA3_SPECIALS = [
    LLAMA3_BOS,
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    LLAMA3_EOS,
    LLAMA3_PAD,
]
LLAMA3_CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{%- if message['content'] is string %}{{- message['content'] | trim }}"
    "{%- else %}{%- for part in message['content'] %}{%- if part['type'] == 'text' %}"
    "{{- part['text'] | trim }}{%- endif %}{%- endfor %}{%- endif %}"
    "{{- '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _corpus_lines(repeat: int = 20) -> Iterator[str]:
    lines = [line for line in CORPUS.splitlines() if line.strip()]
    for _ in range(repeat):
        yield from lines


def llama3_tokenizer(vocab_size: int = 1024) -> Any:
    """A byte-level BPE `PreTrainedTokenizerFast` with Llama-3 specials; BOS added by the post-processor."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=LLAMA3_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    raw.train_from_iterator(_corpus_lines(), trainer=trainer)
    bos_id = raw.token_to_id(LLAMA3_BOS)
    raw.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single=f"{LLAMA3_BOS}:0 $A:0",
                pair=f"{LLAMA3_BOS}:0 $A:0 {LLAMA3_BOS}:1 $B:1",
                special_tokens=[(LLAMA3_BOS, bos_id)],
            ),
        ]
    )
    fast: Any = PreTrainedTokenizerFast
    return fast(
        tokenizer_object=raw,
        bos_token=LLAMA3_BOS,
        eos_token=LLAMA3_EOS,
        pad_token=LLAMA3_PAD,
        chat_template=LLAMA3_CHAT_TEMPLATE,
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
        # transformers 4.x adds token_type_ids by default, which generate() rejects
        model_input_names=["input_ids", "attention_mask"],
    )


def bert_tokenizer(vocab_size: int = 1024) -> Any:
    """A BERT WordPiece `PreTrainedTokenizerFast` whose vocab is built by hand, sorted, from CORPUS."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = re.findall(r"\w+|[^\w\s]", CORPUS.lower())
    chars = sorted({c for w in words for c in w} | set("abcdefghijklmnopqrstuvwxyz0123456789"))
    counts = collections.Counter(w for w in words if len(w) > 1)
    frequent = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    pieces = BERT_SPECIALS + chars + ["##" + c for c in chars]
    pieces += [w for w in frequent if w not in pieces][: max(0, vocab_size - len(pieces))]
    vocab = {t: i for i, t in enumerate(pieces)}
    raw = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    raw.normalizer = normalizers.BertNormalizer(lowercase=True)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    raw.decoder = decoders.WordPiece()
    raw.add_special_tokens(BERT_SPECIALS)
    raw.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast: Any = PreTrainedTokenizerFast
    return fast(
        tokenizer_object=raw,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_max_length=512,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def save_tokenizer(tok: Any, out: Path) -> None:
    """Save, then make tokenizer_config.json readable by transformers 4.x as well as 5.x.

    transformers 5 writes `"tokenizer_class": "TokenizersBackend"`, which 4.x rejects; the chat
    template is copied into tokenizer_config.json for readers that look only there.
    """
    tok.save_pretrained(out)
    p = out / "tokenizer_config.json"
    cfg = json.loads(p.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    if getattr(tok, "chat_template", None):
        cfg["chat_template"] = tok.chat_template
    p.write_text(json.dumps(cfg, indent=2, ensure_ascii=False, sort_keys=True))
