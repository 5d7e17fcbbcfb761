// The status line (an aria-live region) and the error box of a demo page.

export class StatusView {
  constructor(statusEl, errorEl) {
    this.statusEl = statusEl;
    this.errorEl = errorEl;
  }

  /** Announce a status change (polite live region). */
  say(text) {
    this.statusEl.textContent = text;
  }

  /** Show an error in words (role=alert) and announce it. */
  error(text) {
    this.errorEl.textContent = text;
    this.errorEl.hidden = false;
  }

  clearError() {
    this.errorEl.textContent = "";
    this.errorEl.hidden = true;
  }
}
