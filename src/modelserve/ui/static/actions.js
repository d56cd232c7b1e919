// Stop / resume / delete buttons for one run, with the API's error shown next to them.

import { actionAllowed, runAction } from "./api.js";
import { h } from "./dom.js";

const LABELS = { stop: "Stop", resume: "Resume", delete: "Delete" };

/**
 * Buttons for `run`; `onChange(run)` receives the run the API returned after an action.
 * `update(run)` re-enables the buttons the run's state allows. `error` is the inline error node;
 * `onError(shown)` is told when it appears or clears.
 */
export function createActions(run, onChange, onError = () => {}) {
  let current = run;
  let busy = false;
  const error = h("div", { class: "inline-error", role: "alert", "data-testid": "run-error", hidden: true });
  const buttons = {};
  for (const action of ["stop", "resume", "delete"]) {
    buttons[action] = h("button", {
      type: "button",
      class: `btn btn-small${action === "delete" ? " btn-danger" : ""}`,
      "data-testid": `run-${action}`,
      "aria-label": `${LABELS[action]} run ${run.id}`,
      onclick: () => act(action),
    }, LABELS[action]);
  }

  async function act(action) {
    if (action === "delete" && !window.confirm(`Delete run ${current.id}? Its replicas are stopped and removed.`)) return;
    busy = true;
    error.hidden = true;
    onError(false);
    update(current);
    try {
      current = await runAction(current.id, action);
      onChange(current);
    } catch (err) {
      error.textContent = `${LABELS[action]} failed: ${err.message}`;
      error.hidden = false;
      onError(true);
    } finally {
      busy = false;
      update(current);
    }
  }

  function update(next) {
    current = next;
    const state = (next.status || {}).state;
    for (const [action, button] of Object.entries(buttons)) {
      button.disabled = busy || !actionAllowed(action, state);
    }
  }

  update(run);
  return { buttons: h("div", { class: "actions" }, Object.values(buttons)), error, update };
}
