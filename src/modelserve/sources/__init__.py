"""Model sources: make a model url local (a folder or a file) in the cache, reporting progress.

Schemes: absolute paths and file://, hf:// and huggingface:// (huggingface_hub), s3:// (boto3;
endpoint from AWS_ENDPOINT_URL). Imports huggingface_hub and boto3 lazily.
"""

from __future__ import annotations

from modelserve.sources.fetch import Progress, fetch_model

__all__ = ["Progress", "fetch_model"]
