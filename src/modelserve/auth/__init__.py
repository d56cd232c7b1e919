"""API keys on the OpenAI routes: key hashing, lookups with a short cache, per-key request and
token limits, the pure-ASGI middleware, and the usage recorder the gateway reports to.

Never imports control/, executors/, api/ or gateway/; the store is reached through the small
`KeyLookupStore` / `UsageStore` protocols.
"""
