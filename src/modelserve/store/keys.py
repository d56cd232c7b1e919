"""API keys and their token usage.

Keys are stored hashed (salt + SHA-256, found through an index digest; see `auth.hashing`); the
key itself is returned once, by `create_api_key`, and never stored. Imports `store.*`, `errors`
and the dependency-free `auth.hashing` from the project.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from modelserve.auth import hashing
from modelserve.errors import InvalidRequest, NotFound
from modelserve.store.catalog import project_row
from modelserve.store.records import ApiKeyRecord, ModelUsage, UsageInput, UsageSummary
from modelserve.store.sessions import StoreSessions, check_project_name
from modelserve.store.tables import ApiKeyRow, ApiKeyUsageRow, utcnow

KEY_ID_HEX = 16


def api_key_row(session: Session, key_id: str) -> ApiKeyRow:
    """The key's row; NotFound (param "key_id") if there is none."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found", param="key_id", code="api_key_not_found")
    return row


class KeyStore(StoreSessions):
    # -- keys -------------------------------------------------------------------------------

    def create_api_key(
        self,
        name: str,
        *,
        project: str | None = None,
        models: Iterable[str] = (),
        rpm: int | None = None,
        tpm: int | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """Create a key; returns its record and the key itself (the only time it is available).

        `models` empty allows every model; `rpm` / `tpm` None is unlimited. Raises InvalidRequest
        naming the bad field, NotFound for an unknown project.
        """
        name = _check_name(name)
        allowed = _check_models(models)
        _check_limit(rpm, "rpm")
        _check_limit(tpm, "tpm")
        if project is not None:
            check_project_name(project)
        secret = hashing.new_secret()
        d = hashing.digests(secret)
        with self._write() as s:
            if project is not None:
                project_row(s, project)
            row = ApiKeyRow(
                id=uuid.uuid4().hex[:KEY_ID_HEX],
                name=name,
                project=project,
                models=list(allowed),
                requests_per_minute=rpm,
                tokens_per_minute=tpm,
                lookup=d.lookup,
                salt=d.salt,
                key_hash=d.key_hash,
                hint=d.hint,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return row.to_record(), secret

    def get_api_key(self, key_id: str) -> ApiKeyRecord:
        """The key's record (active or revoked); NotFound if there is none."""
        with self._read() as s:
            return api_key_row(s, key_id).to_record()

    def list_api_keys(self, *, include_revoked: bool = True) -> list[ApiKeyRecord]:
        """Every key, oldest first (revoked ones too unless `include_revoked` is False)."""
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
        if not include_revoked:
            query = query.where(ApiKeyRow.revoked_at.is_(None))
        with self._read() as s:
            return [r.to_record() for r in s.scalars(query)]

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord:
        """Revoke a key for good; revoking twice keeps the first time. NotFound if unknown."""
        with self._write() as s:
            row = api_key_row(s, key_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                s.flush()
            return row.to_record()

    def find_api_key(self, secret: str) -> ApiKeyRecord | None:
        """The record of the key `secret` (revoked ones too: check `.active`), or None.

        The salted hash is compared in constant time; malformed input is None, never an error.
        """
        if not isinstance(secret, str) or not hashing.looks_like_key(secret):
            return None
        lookup = hashing.lookup_digest(secret)
        with self._read() as s:
            for row in s.scalars(select(ApiKeyRow).where(ApiKeyRow.lookup == lookup)):
                if hashing.verify(secret, row.salt, row.key_hash):
                    return row.to_record()
        return None

    # -- usage ------------------------------------------------------------------------------

    def add_usage(
        self,
        key_id: str,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        run_id: str | None = None,
    ) -> None:
        """Record one request's tokens under a key. NotFound for an unknown key."""
        with self._read() as s:
            api_key_row(s, key_id)
        self.add_usage_batch([UsageInput(key_id, model, prompt_tokens, completion_tokens, run_id)])

    def add_usage_batch(self, items: Sequence[UsageInput]) -> int:
        """Record many requests in one transaction and move each key's `last_used_at` forward.

        Items of unknown keys are dropped (a batch must not fail for one stale id); returns how
        many were written. Raises InvalidRequest for negative token counts.
        """
        for item in items:
            _check_tokens(item)
        if not items:
            return 0
        now = utcnow()
        with self._write() as s:
            ids = {i.key_id for i in items}
            known = set(s.scalars(select(ApiKeyRow.id).where(ApiKeyRow.id.in_(ids))))
            rows = [_usage_row(i, now) for i in items if i.key_id in known]
            s.add_all(rows)
            latest: dict[str, datetime] = {}
            for row in rows:
                latest[row.key_id] = max(row.ts, latest.get(row.key_id, row.ts))
            for key_id, ts in latest.items():
                s.execute(
                    update(ApiKeyRow)
                    .where(ApiKeyRow.id == key_id)
                    .where(or_(ApiKeyRow.last_used_at.is_(None), ApiKeyRow.last_used_at < ts))
                    .values(last_used_at=ts)
                )
            return len(rows)

    def usage_summary(self, key_id: str | None = None, *, since: datetime | None = None) -> UsageSummary:
        """Requests and tokens per key and model (one key, or all when None), optionally since
        a time. NotFound for an unknown key."""
        u = ApiKeyUsageRow
        query = (
            select(
                u.key_id,
                u.model,
                func.count(),
                func.coalesce(func.sum(u.prompt_tokens), 0),
                func.coalesce(func.sum(u.completion_tokens), 0),
            )
            .group_by(u.key_id, u.model)
            .order_by(u.key_id, u.model)
        )
        if key_id is not None:
            query = query.where(u.key_id == key_id)
        if since is not None:
            query = query.where(u.ts >= since)
        with self._read() as s:
            if key_id is not None:
                api_key_row(s, key_id)
            rows = tuple(ModelUsage(k, m, int(n), int(p), int(c)) for k, m, n, p, c in s.execute(query))
        return UsageSummary(key_id=key_id, since=since, rows=rows)

    def token_window(self, key_id: str, since: datetime) -> tuple[int, datetime | None]:
        """(tokens recorded under the key since `since`, time of the oldest of those records)."""
        u = ApiKeyUsageRow
        query = select(
            func.coalesce(func.sum(u.prompt_tokens + u.completion_tokens), 0), func.min(u.ts)
        ).where(u.key_id == key_id, u.ts >= since)
        with self._read() as s:
            total, oldest = s.execute(query).one()  # min() keeps the column type: aware UTC
        return int(total), oldest


def _usage_row(item: UsageInput, now: datetime) -> ApiKeyUsageRow:
    return ApiKeyUsageRow(
        key_id=item.key_id,
        run_id=item.run_id,
        model=item.model[:255],
        prompt_tokens=item.prompt_tokens,
        completion_tokens=item.completion_tokens,
        ts=item.ts or now,
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 255:
        raise InvalidRequest(
            "key name must be a non-empty string of at most 255 characters",
            param="name",
            code="invalid_value",
        )
    return name.strip()


def _check_models(models: Iterable[str]) -> tuple[str, ...]:
    if isinstance(models, str):
        raise InvalidRequest("models must be a list of model names", param="models", code="invalid_value")
    out: list[str] = []
    for i, model in enumerate(models):
        if not isinstance(model, str) or not model.strip() or len(model) > 255:
            raise InvalidRequest(
                "each model must be a non-empty name of at most 255 characters",
                param=f"models[{i}]",
                code="invalid_value",
            )
        if model.strip() not in out:
            out.append(model.strip())
    return tuple(out)


def _check_limit(value: int | None, param: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"{param} must be a positive integer or null", param=param, code="invalid_value")


def _check_tokens(item: UsageInput) -> None:
    for field in ("prompt_tokens", "completion_tokens"):
        value = getattr(item, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRequest(f"{field} must be a non-negative integer", param=field, code="invalid_value")
