// Chat state without DOM: history in localStorage per run, the request body, and one streamed answer.

import { errorMessage } from "./api.js";
import { openaiChunks, StreamError } from "./sse.js";

export const CHAT_FEATURES = ["TextGeneration", "Chat Completions API", "Completions API"];
export const EMBEDDING_FEATURES = ["TextEmbedding", "Embeddings API"];

/** The chat client applies when every advertised feature is a chat feature (as the seed console). */
export const isChatRun = (features) =>
  Array.isArray(features) && features.length > 0 && features.every((f) => CHAT_FEATURES.includes(f));
export const isEmbeddingRun = (features) =>
  Array.isArray(features) && features.some((f) => EMBEDDING_FEATURES.includes(f));

export const historyKey = (runId) => `modelserve.chat.${runId}`;
const paramsKey = (runId) => `modelserve.chat.${runId}.params`;
export const DEFAULT_PARAMS = { temperature: 0.7, max_tokens: 512, system: "" };

function readJson(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}

/** Messages [{role, content, stats?, error?, stopped?}]; an answer cut by a reload counts as stopped. */
export function loadHistory(runId) {
  const messages = readJson(historyKey(runId), []);
  if (!Array.isArray(messages)) return [];
  return messages
    .filter((m) => m && (m.role === "user" || m.role === "assistant") && typeof m.content === "string")
    .map((m) => (m.pending ? { ...m, pending: false, stopped: true } : m));
}

export function saveHistory(runId, messages) {
  try {
    if (messages.length) localStorage.setItem(historyKey(runId), JSON.stringify(messages));
    else localStorage.removeItem(historyKey(runId));
  } catch { /* storage full or disabled: the conversation still works, it just is not kept */ }
}

export const loadParams = (runId) => ({ ...DEFAULT_PARAMS, ...readJson(paramsKey(runId), {}) });
export function saveParams(runId, params) {
  try { localStorage.setItem(paramsKey(runId), JSON.stringify(params)); } catch { /* see saveHistory */ }
}

/** The request body: the whole conversation so far (empty or failed answers left out), streamed with usage. */
export function chatRequest(model, messages, params) {
  const turns = messages
    .filter((m) => !(m.role === "assistant" && !m.content))
    .map((m) => ({ role: m.role, content: m.content }));
  if (params.system && params.system.trim()) turns.unshift({ role: "system", content: params.system });
  const body = { model, messages: turns, stream: true, stream_options: { include_usage: true } };
  const temperature = Number.parseFloat(params.temperature);
  if (Number.isFinite(temperature)) body.temperature = temperature;
  const maxTokens = Number.parseInt(params.max_tokens, 10);
  if (Number.isFinite(maxTokens) && maxTokens > 0) body.max_tokens = maxTokens;
  return body;
}

/**
 * POST a streaming chat completion and feed content deltas to `onDelta(text)` as they arrive.
 * Returns {ttft_ms, tokens, tokens_per_s, seconds, finish_reason}. Throws StreamError for an HTTP
 * error or an in-band error frame, and AbortError when `signal` aborts.
 */
export async function streamAnswer(url, body, signal, onDelta) {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok || !response.body) {
    let parsed = null;
    try { parsed = JSON.parse(await response.text()); } catch { /* not JSON */ }
    throw new StreamError(errorMessage(parsed, response.status));
  }
  let firstAt = null;
  let deltas = 0;
  let usage = null;
  let finish = null;
  for await (const chunk of openaiChunks(response.body)) {
    if (chunk.usage) usage = chunk.usage;
    const choice = (chunk.choices || [])[0];
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const text = choice.delta ? choice.delta.content : choice.text;
    if (!text) continue;
    if (firstAt === null) firstAt = performance.now();
    deltas += 1;
    onDelta(text);
  }
  return answerStats(started, firstAt, performance.now(), usage ? usage.completion_tokens : deltas, finish);
}

/** TTFT from the request; tokens/s over the generation after the first token (whole time if instant). */
export function answerStats(started, firstAt, ended, tokens, finish = null) {
  const ttft = firstAt === null ? null : firstAt - started;
  const genSeconds = firstAt === null ? 0 : (ended - firstAt) / 1000;
  const seconds = genSeconds > 0.001 ? genSeconds : (ended - started) / 1000;
  return {
    ttft_ms: ttft === null ? null : Math.round(ttft),
    tokens,
    tokens_per_s: tokens && seconds > 0 ? Math.round((tokens / seconds) * 10) / 10 : null,
    seconds: Math.round(((ended - started) / 1000) * 100) / 100,
    finish_reason: finish,
  };
}
