// Run page cards that follow a run over time: the events timeline and replica logs.

import { runEvents, runLogs } from "./api.js";
import { clock, every, fill, h, stateBadge } from "./dom.js";

export function eventsCard(runId) {
  const list = h("ol", { class: "timeline", "data-testid": "events" });
  const error = h("div", { class: "inline-error", role: "alert", hidden: true });
  const el = h("section", { class: "card", "aria-label": "Events" },
    h("div", { class: "card-head" }, h("h2", {}, "Events")), error, h("div", { class: "scroll" }, list));
  let shown = null;

  async function refresh() {
    let events;
    try {
      events = await runEvents(runId);
      error.hidden = true;
    } catch (err) {
      error.textContent = `Cannot load events: ${err.message}`;
      error.hidden = false;
      return;
    }
    const key = events.map((e) => e.id).join(",");
    if (key === shown) return;
    shown = key;
    const scroller = list.parentElement;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 30;
    fill(list, events.length ? events.map((e) => h("li", { class: "event", "data-testid": "event" },
      h("time", { datetime: e.ts, class: "muted small" }, clock(e.ts)),
      h("div", { class: "event-line" }, stateBadge(e.state, { "data-testid": "event-state" }),
        h("strong", {}, e.event), e.reason ? h("span", { class: "muted" }, ` · ${e.reason}`) : null),
      e.message ? h("div", { class: "event-message" }, e.message) : null))
      : h("li", { class: "muted" }, "No events yet."));
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  }
  return { el, refresh };
}

export function logsCard(runId) {
  const replica = h("select", { "aria-label": "Replica", "data-testid": "logs-replica" }, h("option", { value: "0" }, "replica 0"));
  const auto = h("input", { type: "checkbox", checked: true, "aria-label": "Auto-refresh logs", "data-testid": "logs-auto" });
  const pre = h("pre", { class: "logs", "data-testid": "logs", tabindex: "0", "aria-label": "Replica log" });
  const error = h("div", { class: "inline-error", role: "alert", hidden: true });
  const reload = h("button", { type: "button", class: "btn btn-small", "data-testid": "logs-refresh", onclick: () => refresh() }, "Refresh");
  const el = h("section", { class: "card", "aria-label": "Logs" },
    h("div", { class: "card-head" }, h("h2", {}, "Logs"),
      h("div", { class: "row" }, replica, h("label", { class: "check" }, auto, " auto-refresh"), reload)),
    error, pre);

  async function refresh() {
    let text;
    try {
      text = await runLogs(runId, replica.value, 300);
      error.hidden = true;
    } catch (err) {
      error.textContent = `Cannot load logs: ${err.message}`;
      error.hidden = false;
      return;
    }
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30;
    const shown = text || "(no log output yet)";
    if (pre.textContent !== shown) pre.textContent = shown;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
  replica.addEventListener("change", () => { pre.scrollTop = 0; refresh().then(() => { pre.scrollTop = pre.scrollHeight; }); });

  /** Offer one entry per replica the run asks for (at least replica 0). */
  function setReplicas(run) {
    const reps = (run.status || {}).replicas || {};
    const count = Math.max(1, reps.desired || 0, reps.ready || 0);
    if (replica.options.length === count) return;
    const chosen = Math.min(Number(replica.value), count - 1);
    fill(replica, Array.from({ length: count }, (_, i) => h("option", { value: String(i) }, `replica ${i}`)));
    replica.value = String(chosen);
  }

  every(2000, async () => { if (auto.checked) await refresh(); });
  auto.addEventListener("change", () => { if (auto.checked) refresh(); });
  return { el, refresh, setReplicas };
}
