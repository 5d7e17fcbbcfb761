// Curation controls of one capture (label, discard with a reason, restore), shared by /demo/review and
// /demo/sessions. They call POST /records/{id}/label | discard | restore (docs/privacy.md) once per click
// and show the capture's current label and status from the answer.
import { ApiError, requestJson } from "./api.js";

const REASONS = ["bad take", "wrong person", "not a gesture", "camera problem"];
const REASON_LIST_ID = "discard-reasons";

function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The one <datalist> of suggested discard reasons on the page. */
function reasonList() {
  let list = document.getElementById(REASON_LIST_ID);
  if (!list) {
    list = el("datalist", { id: REASON_LIST_ID });
    list.append(...REASONS.map((reason) => el("option", { value: reason })));
    document.body.append(list);
  }
  return list.id;
}

function describe(capture) {
  return `Label: ${capture.label || "none"}. Status: ${capture.status}.`;
}

/**
 * The controls for `capture` ({record_id, label, status}); `view` (a StatusView) announces each outcome,
 * `onChange(capture)` hears the new label and status.
 */
export function curationControls(capture, view, onChange = () => {}) {
  const id = capture.record_id;
  const current = { ...capture };
  const box = el("div", { class: "curation", "data-record-id": id });
  const state = el("p", { class: "curation-state" });
  const labelInput = el("input", { id: `label-${id}`, type: "text", maxlength: "200", autocomplete: "off" });
  const labelButton = el("button", { type: "button", class: "btn-label" }, "Save label");
  const reasonInput = el("input", { id: `reason-${id}`, type: "text", maxlength: "200", list: reasonList(), autocomplete: "off" });
  const discardButton = el("button", { type: "button", class: "btn-discard" }, "Discard");
  const restoreButton = el("button", { type: "button", class: "btn-restore" }, "Restore");
  labelInput.value = capture.label || "";

  const field = (input, text) => {
    const wrap = el("div", { class: "field" });
    wrap.append(el("label", { for: input.id }, text), input);
    return wrap;
  };
  const row = (...nodes) => {
    const wrap = el("div", { class: "actions curation-row" });
    wrap.append(...nodes);
    return wrap;
  };
  box.append(
    state,
    row(field(labelInput, "Label"), labelButton),
    row(field(reasonInput, "Reason to discard"), discardButton, restoreButton),
  );

  function render(busy = false) {
    const erased = current.status === "erased";
    state.textContent = describe(current);
    box.dataset.status = current.status;
    labelInput.disabled = busy || erased;
    labelButton.disabled = busy || erased;
    reasonInput.disabled = busy || current.status !== "active";
    discardButton.disabled = busy || current.status !== "active";
    restoreButton.disabled = busy || current.status !== "discarded";
  }

  async function act(action, payload, doing) {
    view.clearError();
    render(true);
    view.say(`${doing} capture ${id}…`);
    try {
      const change = await requestJson("POST", `/records/${encodeURIComponent(id)}/${action}`, payload);
      current.label = change.label;
      current.status = change.status;
      view.say(`Capture ${id}: ${describe(current)}`);
      onChange({ ...current });
    } catch (err) {
      view.error(err instanceof ApiError ? err.message : String(err));
      view.say(`${doing} failed.`);
    } finally {
      render();
    }
  }

  labelButton.addEventListener("click", () => {
    const label = labelInput.value.trim();
    if (!label) {
      view.error("Type a label first (it names what the gesture means).");
      labelInput.focus();
      return;
    }
    act("label", { label }, "Labelling");
  });
  discardButton.addEventListener("click", () => {
    const reason = reasonInput.value.trim();
    if (!reason) {
      view.error("Give a reason to discard (for example: bad take, wrong person).");
      reasonInput.focus();
      return;
    }
    act("discard", { reason }, "Discarding");
  });
  restoreButton.addEventListener("click", () => act("restore", {}, "Restoring"));
  render();
  return box;
}
