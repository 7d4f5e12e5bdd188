import { Component, type ReactNode } from "react";

/** Whatever goes wrong in a page, the guest gets words and a way on, never a blank page. */
export class Crash extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <main id="main">
        <h1>Something went wrong on this page</h1>
        <p>Your booking, if you made one, is safe. Reload the page to carry on.</p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </main>
    );
  }
}
