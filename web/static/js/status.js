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

  /** Show why `what` failed (the error's own words) and announce that it failed. */
  failed(err, what) {
    this.error(err instanceof Error ? err.message : String(err));
    this.say(`${what} failed.`);
  }
}

/** Run `work` with `state.busy` set (so `render` disables the controls), errors cleared first; a failure
 * is shown as "`what` failed". */
export async function whileBusy(state, render, view, what, work) {
  view.clearError();
  state.busy = true;
  render();
  try {
    await work();
  } catch (err) {
    view.failed(err, what);
  } finally {
    state.busy = false;
    render();
  }
}
