// The chat client on a run page: streamed answers, stop, regenerate, clear, parameters, stats.

import { browserBaseUrl } from "./api.js";
import { copyButton, h } from "./dom.js";
import {
  chatRequest, loadHistory, loadParams, saveHistory, saveParams, streamAnswer,
} from "./chat_model.js";

function statsLine(m) {
  const s = m.stats;
  const parts = [];
  if (s && s.ttft_ms !== null && s.ttft_ms !== undefined)
    parts.push(h("span", { "data-testid": "stat-ttft" }, `TTFT ${s.ttft_ms} ms`));
  if (s && s.tokens_per_s !== null && s.tokens_per_s !== undefined)
    parts.push(h("span", { "data-testid": "stat-tps" }, `${s.tokens_per_s} tok/s`));
  if (s && s.tokens) parts.push(h("span", {}, `${s.tokens} tokens`));
  if (m.stopped) parts.push(h("span", { class: "tag tag-warn", "data-testid": "stat-stopped" }, "stopped"));
  return parts;
}

/** Build the chat panel for one run; call `update(run)` on every status poll. */
export function createChat(runId) {
  let messages = loadHistory(runId);
  const params = loadParams(runId);
  const target = { url: "", model: "", available: false };
  let controller = null;
  const views = new WeakMap();

  const log = h("div", { class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Conversation", "data-testid": "chat-messages" });
  const empty = h("p", { class: "chat-empty" }, "Ask the model something. The conversation is kept in this browser.");
  const input = h("textarea", {
    class: "chat-input", rows: 2, "aria-label": "Message", "data-testid": "chat-input",
    placeholder: "Message the model (Enter to send, Shift+Enter for a new line)",
  });
  const send = h("button", { type: "submit", class: "btn btn-primary", "aria-label": "Send message", "data-testid": "chat-send" }, "Send");
  const stop = h("button", { type: "button", class: "btn", "aria-label": "Stop generating", "data-testid": "chat-stop", onclick: () => controller && controller.abort() }, "Stop");
  const regenerate = h("button", { type: "button", class: "btn", "aria-label": "Regenerate the last answer", "data-testid": "chat-regenerate", onclick: () => regenerateLast() }, "Regenerate");
  const clear = h("button", { type: "button", class: "btn btn-quiet", "aria-label": "Clear the conversation", "data-testid": "chat-clear", onclick: () => clearAll() }, "Clear");
  const notice = h("p", { class: "chat-notice", "data-testid": "chat-notice", role: "status" });

  const paramInput = (key, label, attrs) => {
    const el = h("input", { ...attrs, value: params[key], "aria-label": label, "data-testid": `chat-${key.replace("_", "-")}` });
    el.addEventListener("input", () => { params[key] = el.value; saveParams(runId, params); });
    return h("label", { class: "field" }, h("span", {}, label), el);
  };
  const system = h("textarea", { rows: 2, "aria-label": "System prompt", "data-testid": "chat-system", placeholder: "Optional system prompt" });
  system.value = params.system;
  system.addEventListener("input", () => { params.system = system.value; saveParams(runId, params); });
  const settings = h("details", { class: "chat-params" },
    h("summary", {}, "Parameters"),
    h("div", { class: "params-grid" },
      h("label", { class: "field field-wide" }, h("span", {}, "System prompt"), system),
      paramInput("temperature", "Temperature", { type: "number", min: 0, max: 2, step: 0.1 }),
      paramInput("max_tokens", "Max tokens", { type: "number", min: 1, step: 1 })));

  const form = h("form", { class: "chat-composer", "aria-label": "Send a message" }, input,
    h("div", { class: "chat-buttons" }, send, stop, regenerate, clear));
  form.addEventListener("submit", (event) => { event.preventDefault(); sendInput(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendInput(); }
  });

  const el = h("section", { class: "card chat", "aria-label": "Chat", "data-testid": "chat" },
    h("div", { class: "card-head" }, h("h2", {}, "Chat"), settings), notice, log, form);

  function view(m) {
    if (!views.has(m)) {
      const content = h("div", { class: "msg-content", "data-testid": "message-content" });
      const error = h("div", { class: "msg-error", role: "alert", "data-testid": "chat-error" });
      const meta = h("div", { class: "msg-meta", "data-testid": "message-stats" });
      const who = m.role === "user" ? "You" : "Assistant";
      const box = h("article", { class: `msg msg-${m.role}`, "data-testid": "chat-message", "data-role": m.role, "aria-label": who },
        h("div", { class: "msg-role" }, who), content, error, meta);
      views.set(m, { box, content, error, meta });
    }
    return views.get(m);
  }

  function paint(m) {
    const v = view(m);
    v.content.textContent = m.content;
    v.box.classList.toggle("msg-pending", Boolean(m.pending));
    v.error.textContent = m.error ? `Error: ${m.error}` : "";
    v.error.hidden = !m.error;
    const copy = m.role === "assistant" && m.content && !m.pending ? copyButton(() => m.content, "Copy answer") : null;
    v.meta.replaceChildren(...statsLine(m), ...(copy ? [copy] : []));
    v.meta.hidden = !v.meta.childElementCount;
  }

  function render() {
    log.replaceChildren(...(messages.length ? messages.map((m) => { paint(m); return view(m).box; }) : [empty]));
    log.scrollTop = log.scrollHeight;
    refreshControls();
  }

  function refreshControls() {
    const busy = controller !== null;
    send.disabled = busy || !target.available;
    input.disabled = !target.available;
    stop.disabled = !busy;
    regenerate.disabled = busy || !target.available || !messages.some((m) => m.role === "user");
    clear.disabled = !messages.length;
  }

  async function answer() {
    const reply = { role: "assistant", content: "", pending: true };
    const body = chatRequest(target.model, messages, params);
    messages.push(reply);
    saveHistory(runId, messages);
    controller = new AbortController();
    render();
    try {
      reply.stats = await streamAnswer(target.url, body, controller.signal, (text) => {
        const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
        reply.content += text;
        view(reply).content.textContent = reply.content;
        if (nearBottom) log.scrollTop = log.scrollHeight;
      });
    } catch (err) {
      if (err.name === "AbortError") reply.stopped = true;
      else reply.error = err.message || String(err);
    } finally {
      reply.pending = false;
      controller = null;
      saveHistory(runId, messages);
      paint(reply);
      refreshControls();
      log.scrollTop = log.scrollHeight;
    }
  }

  function sendInput() {
    const text = input.value.trim();
    if (!text || controller || !target.available) return;
    input.value = "";
    messages.push({ role: "user", content: text });
    answer();
  }

  function regenerateLast() {
    if (controller || !target.available) return;
    if (messages.length && messages[messages.length - 1].role === "assistant") messages.pop();
    if (!messages.length) return;
    answer();
  }

  function clearAll() {
    if (controller) controller.abort();
    messages = [];
    saveHistory(runId, messages);
    render();
  }

  function update(run) {
    const status = run.status || {};
    const openai = status.openai || {};
    target.model = openai.model || "";
    target.url = openai.baseUrl ? `${browserBaseUrl(openai.baseUrl)}/chat/completions` : "";
    target.available = status.state === "RUNNING" && Boolean(target.model && target.url);
    notice.textContent = target.available ? ""
      : `The chat is available while the run is RUNNING (now ${status.state || "unknown"}).`;
    notice.hidden = target.available;
    refreshControls();
  }

  render();
  return { el, update };
}
