"""fetch_model: one entry point from a model url to a local path; one small function per scheme."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from modelserve.errors import InvalidRequest, NotFound

Progress = Callable[[str], None]


def fetch_model(url: str, cache_dir: Path, progress: Progress | None = None) -> Path:
    """Return a local path for `url`, downloading into `cache_dir` when remote.

    Raises InvalidRequest for a scheme the local executor cannot fetch, NotFound for a missing
    local path, and lets download errors surface with their own message.
    """
    say = progress or (lambda _msg: None)
    if url.startswith("/"):
        return _local(Path(url))
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "file":
        return _local(Path(unquote(urlparse(url).path)))
    if scheme in ("hf", "huggingface"):
        return _huggingface(url.split("://", 1)[1], cache_dir / "hf", say)
    if scheme == "s3":
        return _s3(url, cache_dir / "s3", say)
    raise InvalidRequest(
        f"the local executor cannot fetch {scheme or 'this'}:// model urls ({url}); "
        "use a local path, file://, hf:// or s3://",
        param="url",
    )


def _local(path: Path) -> Path:
    if not path.exists():
        raise NotFound(f"model path {path} does not exist", param="url")
    return path


def _huggingface(ref: str, cache: Path, say: Progress) -> Path:
    from huggingface_hub import snapshot_download

    repo_id, _, revision = ref.partition(":")
    say(f"downloading {repo_id}{'@' + revision if revision else ''} from the Hugging Face Hub")
    path = snapshot_download(repo_id=repo_id, revision=revision or None, cache_dir=str(cache))
    say(f"model {repo_id} ready in {path}")
    return Path(path)


def _s3(url: str, cache: Path, say: Progress) -> Path:
    import boto3

    parsed = urlparse(url)
    bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
    dest = cache / bucket / re.sub(r"[^A-Za-z0-9._/-]", "_", prefix)
    client = boto3.client("s3")
    keys = [
        obj["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    ]
    if not keys:
        raise NotFound(f"no objects under {url}", param="url")
    if keys == [prefix]:  # a single file
        target = dest.parent / Path(prefix).name
        _download(client, bucket, prefix, target, say, 1, 1)
        return target
    base = prefix.rstrip("/") + "/"
    for i, key in enumerate(keys, 1):
        rel = key[len(base):] if key.startswith(base) else Path(key).name
        if rel:
            _download(client, bucket, key, dest / rel, say, i, len(keys))
    return dest


def _download(client: object, bucket: str, key: str, target: Path, say: Progress, i: int, n: int) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"downloading s3://{bucket}/{key} ({i}/{n})")
    partial = target.with_name(target.name + ".partial")
    client.download_file(bucket, key, str(partial))  # type: ignore[attr-defined]
    partial.rename(target)
