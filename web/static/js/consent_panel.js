// The consent section of /demo/gesture (docs/privacy.md): the person's consent per scope, recording the
// consent they gave to the text shown (its sha256 computed here from exactly that text), and withdrawing a
// scope in one click, with or without erasing the captures it covered. Whether capture may start follows
// from it when the service enforces consent.
import { getJson, requestJson } from "./api.js";

const SCOPES = [
  { scope: "capture", name: "Capture", what: "record gestures" },
  { scope: "store_face", name: "Face", what: "keep the face landmarks" },
  { scope: "research", name: "Research", what: "researchers may read and study them" },
  { scope: "train", name: "Training", what: "may train a recognizer of their gestures" },
];
const nameOf = (scope) => (SCOPES.find((s) => s.scope === scope) || { name: scope }).name;

const $ = (id) => document.getElementById(id);
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** "2026-12-01 14:30 UTC" from a wire timestamp. */
function when(timestamp) {
  return `${timestamp.slice(0, 10)} ${timestamp.slice(11, 16)} UTC`;
}

/** Hex sha256 of `text` as UTF-8 (what the server pins for a consent text). */
async function sha256Hex(text) {
  if (!crypto.subtle) throw new Error("This page is not a secure context (https or localhost): it cannot hash the consent text.");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What withdrawing `scope` with erasure deletes (a3cp.domain.consent.erasure_targets), in words. */
function eraseWording(scope, userId) {
  const which = scope === "store_face" ? `the captures of ${userId} kept with the face`
    : `every capture of ${userId} so far`;
  return `also erase ${which} (their landmark files are deleted for good)`;
}

/** What one history event says, in words. */
function describe(event) {
  const scopes = (event.scopes || []).map(nameOf).join(", ");
  switch (event.event) {
    case "consent.granted":
      return `consent given for ${scopes} by ${event.grantor} (${event.relationship}), ${event.method}, ` +
        `text ${event.text_id} v${event.text_version} (${event.language})` +
        (event.valid_until ? `, until ${when(event.valid_until)}` : "") + `; recorded by ${event.recorded_by}`;
    case "consent.withdrawn":
      return `consent withdrawn for ${scopes}${event.erase ? ", with erasure" : ""}; by ${event.performer_id}`;
    case "capture.erased":
      return `capture ${event.capture_record_id} erased`;
    case "capture.labeled":
      return `capture ${event.capture_record_id} labelled "${event.label}"`;
    case "capture.discarded":
      return `capture ${event.capture_record_id} discarded: ${event.reason}`;
    case "capture.restored":
      return `capture ${event.capture_record_id} restored`;
    default:
      return event.event;
  }
}

export class ConsentPanel {
  /** `view` is the page's StatusView; `onChange` is called whenever what capture may do changed. */
  constructor(view, onChange) {
    this.view = view;
    this.onChange = onChange;
    this.userId = null;
    this.consent = null; // GET /users/{user_id}/consent of userId, once read
    this.texts = [];
    $("consent-scopes").replaceChildren(...SCOPES.map(({ scope, name, what }) => {
      const box = el("input", { type: "checkbox", id: `consent-scope-${scope}`, value: scope });
      const label = el("label", { htmlFor: box.id }, `${name}: ${what}`);
      return el("div", { className: "choice" }, box, label);
    }));
    $("consent-language").addEventListener("change", () => this.showText());
    $("consent-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.grant();
    });
  }

  /** Whether a capture may start for the person shown: consent not enforced, or `capture` in force. */
  get capturePermitted() {
    return this.consent !== null && (!this.consent.enforced || this.consent.scopes.capture.active);
  }

  /** Read the published texts once, then show `userId`'s consent. */
  async show(userId) {
    this.userId = userId;
    this.consent = null;
    // The previous person's rows (and their Withdraw buttons) go at once, not when the answer comes.
    $("consent-rows").replaceChildren();
    $("consent-table").hidden = true;
    $("consent-summary").textContent = `Reading the consent of ${userId}…`;
    this.onChange();
    try {
      if (this.texts.length === 0) await this.loadTexts();
      const consent = await getJson(`/users/${encodeURIComponent(userId)}/consent`);
      if (this.userId !== userId) return; // another person was picked meanwhile
      this.consent = consent;
    } catch (err) {
      this.view.error(`Reading the consent of ${userId} failed: ${err.message}`);
    }
    this.render();
    this.onChange();
  }

  async loadTexts() {
    this.texts = (await getJson("/consent/texts")).texts.filter((text) => text.current);
    $("consent-language").replaceChildren(...this.texts.map((text, index) => new Option(text.language, String(index))));
    this.showText();
  }

  /** The text of the language picked, exactly as published. */
  showText() {
    const text = this.texts[Number($("consent-language").value)];
    if (!text) return;
    $("consent-text-title").textContent = `Consent text ${text.text_id}, version ${text.text_version} (${text.language})`;
    $("consent-text").textContent = text.text;
    $("consent-text-sha256").textContent = text.sha256;
  }

  render() {
    const consent = this.consent;
    $("consent-table").hidden = consent === null;
    const needed = $("consent-needed");
    needed.hidden = true;
    if (consent === null) {
      $("consent-summary").textContent = "The consent of this person could not be read.";
      return;
    }
    $("consent-person").textContent = consent.user_id;
    const given = SCOPES.filter(({ scope }) => consent.scopes[scope].active).map(({ name }) => name);
    $("consent-summary").textContent = (given.length ? `${consent.user_id} has given consent for: ${given.join(", ")}.`
      : `${consent.user_id} has not given any consent yet.`) +
      (consent.enforced ? "" : " (This service does not enforce consent: A3CP_CONSENT_REQUIRED=0.)");
    const events = new Map(consent.history.map((event) => [event.record_id, event]));
    $("consent-rows").replaceChildren(...SCOPES.map(({ scope, name, what }) => this.row(scope, name, what, events)));
    $("consent-history").replaceChildren(...consent.history.map((event) =>
      el("li", {}, `${when(event.timestamp)}: ${describe(event)}`)));
    if (!this.capturePermitted) {
      needed.textContent = `Capture is disabled: ${consent.user_id} has no consent for Capture in force. ` +
        "Record their consent above (Record consent) first.";
      needed.hidden = false;
      $("consent-record").open = true;
    }
  }

  row(scope, name, what, events) {
    const state = this.consent.scopes[scope];
    const granted = state.consent_record_id ? events.get(state.consent_record_id) : null;
    let now = "not given";
    if (granted) {
      now = `${state.active ? "given" : "expired"} ${when(granted.timestamp)} by ${granted.grantor} ` +
        `(${granted.relationship}), ${granted.method}, to text ${granted.text_id} v${granted.text_version}` +
        (state.valid_until ? `; until ${when(state.valid_until)}` : "");
    }
    const withdraw = el("td");
    if (state.consent_record_id) {
      const erase = el("input", { type: "checkbox", id: `erase-${scope}` });
      const eraseLabel = el("label", { htmlFor: erase.id }, eraseWording(scope, this.consent.user_id));
      const button = el("button", { type: "button", id: `btn-withdraw-${scope}` }, `Withdraw ${name}`);
      const userId = this.consent.user_id; // the person this row shows, whoever is picked by the click
      button.addEventListener("click", () => this.withdraw(userId, scope, erase.checked));
      withdraw.append(el("div", { className: "choice" }, erase, eraseLabel), button);
    } else {
      withdraw.textContent = "nothing to withdraw";
    }
    return el("tr", { id: `consent-row-${scope}` }, el("th", { scope: "row" }, `${name}: ${what}`), el("td", {}, now), withdraw);
  }

  async grant() {
    this.view.clearError();
    if (this.consent === null) {
      this.view.error("No person's consent is shown, so there is nobody to record it for.");
      return;
    }
    const scopes = SCOPES.map(({ scope }) => scope).filter((scope) => $(`consent-scope-${scope}`).checked);
    if (scopes.length === 0) {
      this.view.error("Tick at least one thing the person agreed to; nothing was recorded.");
      $(`consent-scope-${SCOPES[0].scope}`).focus();
      return;
    }
    const userId = this.consent.user_id; // the person whose consent is shown, even if another is picked meanwhile
    const text = this.texts[Number($("consent-language").value)];
    const button = $("btn-consent-grant");
    button.disabled = true;
    try {
      const shown = await sha256Hex($("consent-text").textContent);
      if (shown !== text.sha256) {
        throw new Error("The consent text shown differs from the published one; reload the page. Nothing was recorded");
      }
      const validUntil = $("consent-valid-until").value;
      await requestJson("POST", `/users/${encodeURIComponent(userId)}/consent`, {
        scopes,
        grantor: $("consent-grantor").value.trim(),
        relationship: $("consent-relationship").value,
        method: $("consent-method").value,
        text_id: text.text_id,
        text_version: text.text_version,
        text_sha256: shown,
        language: text.language,
        ...(validUntil ? { valid_until: `${validUntil}T23:59:59.999Z` } : {}),
      });
      for (const { scope } of SCOPES) $(`consent-scope-${scope}`).checked = false;
      $("consent-record").open = false;
      await this.show(this.userId);
      this.view.say(`Consent recorded for ${userId}: ${scopes.map(nameOf).join(", ")}.`);
      $("consent-heading").focus();
    } catch (err) {
      this.view.error(`Recording the consent failed: ${err.message}.`);
    } finally {
      button.disabled = false;
    }
  }

  /** Withdraw `scope` for `userId`, the person of the row clicked: refused unless that person is still the
   * one shown (a withdrawal, perhaps with erasure, must never reach a person picked meanwhile). */
  async withdraw(userId, scope, erase) {
    this.view.clearError();
    if (this.consent?.user_id !== userId) {
      this.view.error(`Another person was picked: nothing was withdrawn for ${userId}.`);
      return;
    }
    try {
      const change = await requestJson("POST", `/users/${encodeURIComponent(userId)}/consent.withdraw`, {
        scopes: [scope], erase,
      });
      await this.show(this.userId);
      const erased = erase ? ` ${change.erased.length} capture(s) erased.` : "";
      this.view.say(`${nameOf(scope)} consent withdrawn for ${userId}.${erased}`);
      $("consent-heading").focus();
    } catch (err) {
      this.view.error(`Withdrawing the consent failed: ${err.message}.`);
    }
  }
}
