"""The built-in inference engine: `python -m modelserve.builtin`, an OpenAI-compatible server
running transformers/PyTorch models (generation with continuous batching, embeddings, LoRA).

Imports only `modelserve.protocol`, `modelserve.errors`, `modelserve.settings` from the project;
torch/transformers are imported lazily, never at `import modelserve`.
"""
